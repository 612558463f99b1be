package motions

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// kindFederal is the kind of a motion that a council's motion opens in
// each branch: voted by the branch's members under its own standing
// orders, its result reported to the council.
const kindFederal = "federal"

// federalPayload is a branch's federal motion's payload.
type federalPayload struct {
	Council struct {
		Room   id.RoomID `json:"room"`
		Motion int       `json:"motion"`
	} `json:"council"`
}

// councilMotion is the part of a council's quorum.motion a branch's bot
// reads.
type councilMotion struct {
	ID       int       `json:"id"`
	Kind     string    `json:"kind"`
	Status   string    `json:"status"`
	Text     string    `json:"text"`
	ClosesAt time.Time `json:"closes_at"`
}

// branchResult is quorum.branch_result, a branch's bot reporting its
// branch's vote on a federal motion to the council.
type branchResult struct {
	CouncilMotion int       `json:"council_motion"`
	Branch        id.RoomID `json:"branch"`
	Status        string    `json:"status"`
	Yes           int       `json:"yes"`
	No            int       `json:"no"`
	Abstain       int       `json:"abstain"`
	Electorate    int       `json:"electorate"`
	Record        struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	} `json:"record"`
}

// openFederal opens a motion proposed in a council: it goes to every
// branch, whose bots open it there; nobody votes on it in the council.
func (f *Federation) openFederal(ctx context.Context, r *commands.Request, spec motionSpec) (bool, error) {
	c, ok, err := r.Store.Federation().Council(ctx, r.Room)
	if err != nil || !ok {
		return false, err
	}
	if spec.Secret {
		return true, commands.Refusef("A federal motion is voted in the branches, under their own rules; it can't be secret here.")
	}
	branches, err := f.announced(ctx, c.Room)
	if err != nil {
		return true, err
	}
	if len(branches) == 0 {
		return true, commands.Refusef("This council has no branch yet to decide a motion. `%s` admits one.",
			r.Cmd("council admit <bot user ID>")) // a command, English everywhere: not for members
	}
	now := r.Clock.Now()
	closes, raised, err := f.federalDeadline(ctx, r, c.Room, spec, branches)
	if err != nil {
		return true, err
	}
	fm := &store.FederalMotion{Council: c.Room, Text: spec.Text, Proposer: r.Sender, OpenedAt: now, ClosesAt: closes}
	if err := r.Store.Federation().OpenFederal(ctx, fm); err != nil {
		return true, err
	}
	if err := r.Store.Federation().SendFederal(ctx, fm.ID, branches); err != nil {
		return true, err
	}
	names := make([]any, len(branches))
	list := make([]map[string]any, len(branches))
	for i, b := range branches {
		names[i] = b.Name
		list[i] = map[string]any{"room": b.Room, "name": b.Name}
	}
	out := msg.F("**Federal motion #%d** (%s): %s", fm.Number, msg.Pill(r.Sender), fm.Text).
		Append("The branches decide it, each in its own room under its own standing orders: %s. The council decides by %s once every branch has reported, or at %s (in %s).",
			commands.JoinAndItems(names), ruleWords(c.Rule), timespec.Human(closes, r.Location()), timespec.Remaining(closes.Sub(now)))
	if raised != nil {
		out = out.Append("The deadline leaves %s its least voting time of %s, and %s for the motion to reach it and its result to come back.",
			raised.Name, timespec.Remaining(raised.VotingTime), timespec.Remaining(2*federalMargin))
	}
	out = out.With("quorum.motion", map[string]any{
		"id": fm.Number, "kind": kindFederal, "status": "open", "text": fm.Text, "rule": c.Rule,
		"closes_at": closes.UTC().Format(time.RFC3339), "branches": list,
	})
	r.Say(r.Room, out)
	return true, nil
}

// federalMargin is the time a federal motion's deadline leaves the
// branches after their own votes close, to report their results; the
// council leaves as much again for the motion to reach them.
const federalMargin = 10 * time.Minute

// federalDeadline is when a federal motion closes: under the council room's
// own standing orders (voting_time), as any motion, and late enough that
// every branch's vote, under its standing orders as its bot announced them,
// opened up to federalMargin after it, closes federalMargin before it. A deadline the proposer chose shorter is
// refused; the default is raised, and raised names the branch that needed
// it.
func (f *Federation) federalDeadline(ctx context.Context, r *commands.Request, council id.RoomID, spec motionSpec, branches []*store.Branch) (time.Time, *store.Branch, error) {
	now := r.Clock.Now()
	closes := spec.Closes
	if spec.Duration > 0 {
		closes = now.Add(spec.Duration)
	}
	o, err := f.motions.ordersOf(ctx, council)
	if err != nil {
		return closes, nil, err
	}
	_, _, least, leastRule := o.least(kindFederal)
	if closes.Before(now.Add(least)) {
		if spec.chose.closes {
			return closes, nil, commands.Refusef("This council's standing orders give a motion at least %s (`%s`): make it close later. `%s` shows the rules.",
				timespec.Remaining(least), leastRule, r.Cmd("rules"))
		}
		closes = now.Add(least)
	}
	var raised *store.Branch
	for _, b := range branches {
		need := now.Add(b.VotingTime + 2*federalMargin)
		if b.VotingTime == 0 || !closes.Before(need) {
			continue
		}
		if spec.chose.closes {
			return closes, nil, commands.Refusef("The branch %s gives a motion at least %s, and reports after its vote: make this close at least %s from now.",
				b.Name, timespec.Remaining(b.VotingTime), timespec.Remaining(b.VotingTime+2*federalMargin))
		}
		closes, raised = need, b
	}
	return closes, raised, nil
}

// announced lists a council's branches whose bots announced them.
func (f *Federation) announced(ctx context.Context, council id.RoomID) ([]*store.Branch, error) {
	list, err := f.Store.Federation().Branches(ctx, council)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(list, func(b *store.Branch) bool { return b.Room == "" }), nil
}

// standing returns the branches that decide a federal motion and their
// results: those it was sent to when it opened (a branch announced later
// never got it) that are still in the council (a branch that left since it
// reported counts no more).
func (f *Federation) standing(ctx context.Context, council id.RoomID, motion int64) ([]*store.Branch, []*store.BranchResult, error) {
	branches, err := f.announced(ctx, council)
	if err != nil {
		return nil, nil, err
	}
	sent, err := f.Store.Federation().SentTo(ctx, motion)
	if err != nil {
		return nil, nil, err
	}
	if len(sent) > 0 { // none recorded: a motion opened before they were
		branches = slices.DeleteFunc(branches, func(b *store.Branch) bool {
			return !slices.ContainsFunc(sent, func(s *store.Branch) bool { return s.Bot == b.Bot && s.Room == b.Room })
		})
	}
	results, err := f.Store.Federation().Results(ctx, motion)
	if err != nil {
		return nil, nil, err
	}
	results = slices.DeleteFunc(results, func(r *store.BranchResult) bool {
		return !slices.ContainsFunc(branches, func(b *store.Branch) bool { return b.Bot == r.Bot && b.Room == r.Branch })
	})
	return branches, results, nil
}

// councilMotionNotice opens, in each branch of this bot affiliated with the
// council, the federal motion its council's bot announced.
func (f *Federation) councilMotionNotice(ctx context.Context, fx *commands.Effects, n commands.Notice, raw json.RawMessage) (bool, error) {
	affs, err := f.Store.Federation().Affiliations(ctx, n.Room)
	if err != nil {
		return false, err
	}
	affs = slices.DeleteFunc(affs, func(a *store.Affiliation) bool {
		return (a.Status != store.AffiliationJoined && a.Status != store.AffiliationLeaving) || a.CouncilBot == "" || a.CouncilBot != n.Sender
	})
	if len(affs) == 0 {
		return false, nil // not from the council's bot: nothing this bot acts on
	}
	var cm councilMotion
	if err := json.Unmarshal(raw, &cm); err != nil || cm.Kind != kindFederal || cm.Status != "open" || cm.ID <= 0 {
		return false, nil
	}
	text := strings.TrimSpace(cm.Text)
	if text == "" || len(text) > commands.MaxCommand {
		return false, nil
	}
	for _, a := range affs {
		if has, err := f.Store.Federation().HasBranchMotion(ctx, a.Branch, n.Room, cm.ID); err != nil {
			return false, err
		} else if has {
			continue
		}
		r := &commands.Request{Env: f.Env, Room: a.Branch, Sender: n.Sender, Time: n.Time, Prefix: f.Config.CommandPrefixes[0]}
		spec, err := f.motions.defaults(r)
		if err != nil {
			return false, err
		}
		var p federalPayload
		p.Council.Room, p.Council.Motion = n.Room, cm.ID
		spec.Kind, spec.Payload = kindFederal, encodePayload(p)
		// The wording is stored: it reads in the branch's language as it is now.
		lang, err := f.Lang(ctx, a.Branch)
		if err != nil {
			return false, err
		}
		spec.Text = msg.T("Federal motion #%d of the council: %s", cm.ID, text).In(lang)
		// The branch's vote closes federalMargin before the council's deadline,
		// for its result to reach the council in time; raised to the branch's
		// voting time if shorter, with a warning.
		closeBy := cm.ClosesAt.Add(-federalMargin)
		if !cm.ClosesAt.IsZero() && closeBy.After(f.Clock.Now()) {
			spec.Closes, spec.Duration = closeBy, 0
		}
		m, err := f.motions.propose(ctx, r, spec)
		if err != nil {
			if refusal, ok := commands.AsRefusal(err); ok {
				fx.Say(a.Branch, msg.F("I could not open the council's federal motion #%d here: %s", cm.ID, messageText(refusal.Message)))
				continue
			}
			return false, err
		}
		if _, err := f.Store.Federation().LinkBranchMotion(ctx, a.Branch, n.Room, cm.ID, m.ID); err != nil {
			return false, err
		}
		fx.Then(&r.Effects)
		if !cm.ClosesAt.IsZero() && !m.ClosesAt.IsZero() && m.ClosesAt.After(closeBy) {
			fx.Say(a.Branch, msg.F("The council decides federal motion #%d at %s, but this branch's standing orders give our motion #%d until %s: "+
				"our result may reach the council too late to count. I tell the council how long this branch votes, so that its next deadlines leave us that time.",
				cm.ID, timespec.Human(cm.ClosesAt, r.Location()), m.Number, timespec.Human(m.ClosesAt, r.Location())))
			if err := f.announceBranch(ctx, fx, a, true, 0); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// federalDecided reports a branch's vote on a federal motion to the council
// and tells the branch what it reported.
func (f *Federation) federalDecided(ctx context.Context, fx *commands.Effects, m *store.Motion, outcome Outcome) error {
	p, err := decodePayload[federalPayload](m)
	if err != nil {
		return err
	}
	electorate, err := f.Store.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return err
	}
	if a, ok, err := f.Store.Federation().AffiliationOf(ctx, m.Room, p.Council.Room); err != nil {
		return err
	} else if ok && a.Joined && electorate > a.Electorate {
		// The council takes no result from more members than announced.
		if err := f.announceBranch(ctx, fx, a, true, electorate); err != nil {
			return err
		}
	}
	head, err := f.Store.Records().Head(ctx, m.Room)
	if err != nil {
		return err
	}
	res := branchResult{CouncilMotion: p.Council.Motion, Branch: m.Room, Status: string(outcome),
		Yes: m.Yes, No: m.No, Abstain: m.Abstain, Electorate: electorate}
	if head != nil {
		res.Record.Seq, res.Record.Hash = head.Seq, head.Hash
	}
	fx.Say(p.Council.Room, msg.F("Branch result of federal motion #%d: %s %d–%d, %s; %d of %d voted. Record entry %d of the branch's chain.",
		p.Council.Motion, Verdict(outcome), m.Yes, m.No, msg.N(m.Abstain, "%d abstention", "%d abstentions"), m.Voted(), electorate, res.Record.Seq).
		With("quorum.branch_result", res))
	fx.Say(m.Room, msg.F("I reported to the council that this branch's vote on its federal motion #%d (our motion #%d) was: %s %d–%d, %s, %d of %d voted.",
		p.Council.Motion, m.Number, Verdict(outcome), m.Yes, m.No, msg.N(m.Abstain, "%d abstention", "%d abstentions"), m.Voted(), electorate))
	return nil
}

// federalField is quorum.motion's "council" on a branch's federal motion.
func federalField(m *store.Motion) map[string]any {
	p, err := decodePayload[federalPayload](m)
	if err != nil {
		return nil
	}
	return map[string]any{"council": map[string]any{"room": p.Council.Room, "motion": p.Council.Motion}}
}

// branchResultNotice takes a branch's result, only from the bot admitted
// for that branch, and decides the federal motion once every branch has
// reported.
func (f *Federation) branchResultNotice(ctx context.Context, fx *commands.Effects, n commands.Notice, c *store.Council, raw json.RawMessage) (bool, error) {
	refuse := ignoring(fx, n, msg.T("branch result"))
	var res branchResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return refuse(msg.T("it does not read as one."))
	}
	b, admitted, err := f.Store.Federation().Branch(ctx, c.Room, n.Sender)
	if err != nil {
		return false, err
	}
	switch {
	case !admitted || b.Room == "":
		return refuse(msg.T("%s is not the bot of a branch of this council.", n.Sender.String()))
	case res.Branch != b.Room:
		return refuse(msg.T("%s speaks for the branch %s, not %s.", n.Sender.String(), b.Room.String(), res.Branch.String()))
	case !slices.Contains([]string{string(Carried), string(Failed), string(NoQuorum)}, res.Status) || !countsFit(res):
		return refuse(msg.T("its status or counts are not valid."))
	case res.Electorate > b.Electorate:
		return refuse(msg.T("its electorate (%d) is larger than the %d members %s announced for %s.", res.Electorate, b.Electorate, n.Sender.String(), b.Name))
	}
	fm, ok, err := f.Store.Federation().Federal(ctx, c.Room, res.CouncilMotion)
	if err != nil {
		return false, err
	}
	if !ok {
		return refuse(msg.T("there is no federal motion #%d.", res.CouncilMotion))
	}
	if fm.Status != "open" {
		return refuse(msg.T("federal motion #%d is decided already.", fm.Number))
	}
	if sent, err := f.Store.Federation().SentTo(ctx, fm.ID); err != nil {
		return false, err
	} else if len(sent) > 0 && !slices.ContainsFunc(sent, func(s *store.Branch) bool { return s.Bot == n.Sender && s.Room == b.Room }) {
		return refuse(msg.T("federal motion #%d opened before %s joined; it is decided by the branches it was sent to.", fm.Number, b.Name))
	}
	fresh, err := f.Store.Federation().AddResult(ctx, store.BranchResult{Motion: fm.ID, Bot: n.Sender, Branch: b.Room, Status: res.Status,
		Yes: res.Yes, No: res.No, Abstain: res.Abstain, Electorate: res.Electorate, RecordSeq: res.Record.Seq, RecordHash: res.Record.Hash}, n.Time)
	if err != nil {
		return false, err
	}
	if !fresh {
		return refuse(msg.T("%s reported on federal motion #%d already; the first report stands.", b.Name, fm.Number))
	}
	if _, _, err := f.RecordDecision(ctx, c.Room, "federal.branch_result", map[string]any{"motion": fm.Number, "branch": b.Room, "bot": n.Sender,
		"status": res.Status, "yes": res.Yes, "no": res.No, "abstain": res.Abstain, "electorate": res.Electorate, "record": res.Record}); err != nil {
		return false, err
	}
	branches, results, err := f.standing(ctx, c.Room, fm.ID)
	if err != nil {
		return false, err
	}
	if len(results) < len(branches) {
		return true, nil
	}
	return true, f.decideFederal(ctx, fx, c, fm, n.Time)
}

// countsFit says whether a branch result's counts are each between 0 and
// its electorate and together not above it, without overflow.
func countsFit(res branchResult) bool {
	e := res.Electorate
	if e < 0 || e > maxElectorate {
		return false
	}
	for _, n := range []int{res.Yes, res.No, res.Abstain} {
		if n < 0 || n > e {
			return false
		}
	}
	// Each count is in [0, e], so e-No-Yes can't overflow, and Abstain >= 0
	// makes this Yes+No+Abstain <= e.
	return res.Abstain <= e-res.No-res.Yes
}

// FederalOutcome decides a federal motion by a council's rule from the
// branches' results; branches counts the council's branches, reported or
// not. A branch that did not report counts against under "unanimous", and
// not at all under the other rules.
func FederalOutcome(rule string, branches int, results []*store.BranchResult) store.MotionStatus {
	var carried, yes, no int
	for _, r := range results {
		if r.Status == string(Carried) {
			carried++
		}
		yes, no = yes+r.Yes, no+r.No
	}
	switch rule {
	case "members":
		if yes > no {
			return Carried
		}
	case "unanimous":
		if branches > 0 && carried == branches {
			return Carried
		}
	default:
		if 2*carried > len(results) {
			return Carried
		}
	}
	return Failed
}

// decideFederal closes a federal motion and posts the council's result.
func (f *Federation) decideFederal(ctx context.Context, fx *commands.Effects, c *store.Council, fm *store.FederalMotion, now time.Time) error {
	branches, results, err := f.standing(ctx, c.Room, fm.ID)
	if err != nil {
		return err
	}
	outcome := FederalOutcome(c.Rule, len(branches), results)
	if err := f.Store.Federation().CloseFederal(ctx, fm.ID, string(outcome), now); err != nil {
		return err
	}
	reported := map[id.RoomID]*store.BranchResult{}
	for _, r := range results {
		reported[r.Branch] = r
	}
	var summary []map[string]any
	var lines, missing []any
	var yes, no, abstain, electorate, carried int
	for _, b := range branches {
		r, ok := reported[b.Room]
		if !ok {
			missing = append(missing, b.Name)
			summary = append(summary, map[string]any{"room": b.Room, "name": b.Name, "status": "not_reported"})
			continue
		}
		if r.Status == string(Carried) {
			carried++
		}
		yes, no, abstain, electorate = yes+r.Yes, no+r.No, abstain+r.Abstain, electorate+r.Electorate
		summary = append(summary, map[string]any{"room": b.Room, "name": b.Name, "status": r.Status, "yes": r.Yes, "no": r.No,
			"abstain": r.Abstain, "electorate": r.Electorate, "record": map[string]any{"seq": r.RecordSeq, "hash": r.RecordHash}})
		lines = append(lines, msg.T("%s: %s %d–%d", b.Name, Verdict(store.MotionStatus(r.Status)), r.Yes, r.No))
	}
	content := map[string]any{"id": fm.Number, "kind": kindFederal, "status": outcome, "text": fm.Text, "rule": c.Rule,
		"yes": yes, "no": no, "abstain": abstain, "electorate": electorate, "branches": summary,
		"closes_at": fm.ClosesAt.UTC().Format(time.RFC3339), "closed_at": now.UTC().Format(time.RFC3339)}
	entry, recField, err := f.RecordDecision(ctx, c.Room, "federal.result", content)
	if err != nil {
		return err
	}
	out := msg.F("Federal motion #%d: %s by %s — %d of %d branches carried it (%s). Members' votes: %d yes, %d no, %d abstain.",
		fm.Number, Verdict(outcome), ruleWords(c.Rule), carried, len(branches), msg.List("; ", lines...), yes, no, abstain)
	if len(missing) > 0 {
		out = out.Append("Not reported by the deadline: %s.", commands.JoinAndItems(missing))
	}
	fx.Say(c.Room, out.Append("%s", commands.RecordLine(entry)).With("quorum.motion", content).With("quorum.record", recField))
	return nil
}

// Due implements commands.Scheduler: federal motions whose deadline passed
// are decided with the results that came.
func (f *Federation) Due(ctx context.Context, now time.Time) (time.Time, error) {
	due, err := f.Store.Federation().FederalDue(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	err = commands.EachInTx(ctx, f.Env, due, func(ctx context.Context, fx *commands.Effects, fm *store.FederalMotion) error {
		fresh, ok, err := f.Store.Federation().Federal(ctx, fm.Council, fm.Number)
		if err != nil || !ok || fresh.Status != "open" {
			return err
		}
		c, ok, err := f.Store.Federation().Council(ctx, fm.Council)
		if err != nil || !ok {
			return err
		}
		return f.decideFederal(ctx, fx, c, fresh, now)
	})
	if err != nil {
		return time.Time{}, err
	}
	return f.Store.Federation().NextFederalClose(ctx)
}

// messageText is a message as an argument of another, rendered in the
// reader's language: its text without its markup.
type messageText msg.Message

// Localize implements msg.Localizer.
func (m messageText) Localize(lang string) string { return msg.Message(m).Localize(lang).Body }
