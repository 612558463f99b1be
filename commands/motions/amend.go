package motions

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// Amendments. `!amend N : <new wording>` on an open motion proposes to
// replace its text; the amendment is a motion of kind "amendment", voted
// as motions are (the room's defaults and standing orders of a motion).
// While it is open the main motion's vote is suspended: votes on it are
// refused and its deadline does not run. Carried: the main motion's text is
// replaced (its notice edited, old and new wording in the record), the votes
// cast on it are cleared and their voters told by DM, and its vote reopens
// for the full least voting time of the standing orders (or what was left
// of it, if more). Failed, or without quorum: its vote resumes for the time
// it had left when suspended.
//
// Decisions, beyond the text:
//   - Only a plain motion (kind "motion") can be amended, not an election,
//     recall, ratification, change of the rules or amendment, and not a
//     secret ballot: its sealed box cannot clear the votes already in it.
//   - An amendment needs no second even where motions do, and cannot be
//     withdrawn once open: either would leave the main motion suspended.
//   - A vote on the amended motion sent before the amendment carried (and
//     handled late, after a restart) is refused: it was cast on the old
//     wording. Its poll, which shows the old wording, is ended and its
//     answers no longer count; the new wording is voted by reaction and
//     !vote.
type Amendments struct {
	*commands.Env
	motions *Feature
}

// kindAmendment is the motion kind of an amendment.
const kindAmendment = "amendment"

// amendmentPayload is an amendment's payload.
type amendmentPayload struct {
	Motion  int64  `json:"motion_id"`
	Number  int    `json:"motion"`
	Old     string `json:"old_text"`
	LeftMS  int64  `json:"left_ms"` // the main motion's voting time left when suspended
	Outcome string `json:"outcome,omitempty"`
}

// mainPayload is what an amended motion keeps in its payload.
type mainPayload struct {
	AmendedAt int64 `json:"amended_at,omitempty"` // ms
}

func init() {
	statusText[store.MotionSuspended] = msg.T("suspended while an amendment is decided")
}

// NewAmendments makes the amendments feature over the motions m.
func NewAmendments(m *Feature) *Amendments {
	a := &Amendments{Env: m.Env, motions: m}
	m.kinds[kindAmendment] = motionKind{decided: a.decided, mayWithdraw: a.mayWithdraw, fields: a.fields}
	return a
}

// Group implements commands.Feature.
func (a *Amendments) Group() string { return "Amendments" }

// Commands implements commands.Feature.
func (a *Amendments) Commands() []*commands.Command {
	return []*commands.Command{{
		Name:    "amend",
		Usage:   "amend N : <new wording>",
		Summary: "propose replacing the text of open motion N (voted as a motion; the main vote waits meanwhile)",
		Help: "While the amendment is open, voting on motion N is suspended. If it carries, motion N takes the new wording, " +
			"the votes already cast on it are cleared (their voters are told) and voting reopens for the full voting time. " +
			"If it fails, voting on the unchanged motion resumes. One amendment at a time; amendments to amendments are refused.",
		Examples: []string{"amend 3 : Pay the rent from the strike fund until March"},
		Handler:  a.amend,
	}}
}

func (a *Amendments) amend(ctx context.Context, r *commands.Request) error {
	head, text, found := commands.SplitColon(r.Args)
	text = strings.TrimSpace(text)
	n, ok := commands.ParseNumber(strings.TrimSpace(head))
	if !found || !ok || text == "" {
		// not for members to translate: a command, the same in every language
		return commands.Refusef("Say which motion, then the new wording after a colon: `%s`.", r.Cmd("amend 3 : <new wording>"))
	}
	if len(text) > maxMotionText {
		return commands.Refusef("An amendment of more than %d characters is too long; link a document instead.", maxMotionText)
	}
	f := a.motions
	m, err := f.find(ctx, r, n)
	if err != nil {
		return err
	}
	switch {
	case m.Kind == kindAmendment:
		return commands.Refusef("Motion #%d is an amendment; amendments to amendments are not allowed. Vote it down and propose another.", n)
	case m.Kind != "motion":
		return commands.Refusef("Only a plain motion can be amended; motion #%d is %s.", n, kindWords(m.Kind))
	case m.Status == store.MotionSuspended:
		return commands.Refusef("Motion #%d already has an amendment open; one at a time.", n)
	case m.Status != store.MotionOpen:
		return commands.Refusef("Only an open motion can be amended; motion #%d is %s.", n, statusWords(m.Status))
	case m.Secret:
		return commands.Refusef("A secret ballot can't be amended: the votes in its sealed box can't be cleared. Withdraw it and propose the new wording.")
	case text == m.Text:
		return commands.Refusef("That is motion #%d's wording already.", n)
	}
	now := r.Clock.Now()
	spec, err := f.defaults(r)
	if err != nil {
		return err
	}
	spec.Kind, spec.Text = kindAmendment, text
	spec.Payload = encodePayload(amendmentPayload{Motion: m.ID, Number: m.Number, Old: m.Text, LeftMS: max(m.ClosesAt.Sub(now), 0).Milliseconds()})
	electorate, err := f.electorate(ctx, r.Room)
	if err != nil {
		return err
	}
	o, err := f.ordersOf(ctx, r.Room)
	if err != nil {
		return err
	}
	if spec, err = o.apply(r, spec, len(electorate)); err != nil {
		return err
	}
	am := &store.Motion{Room: r.Room, Kind: spec.Kind, Payload: spec.Payload, Proposer: r.Sender, Text: spec.Text,
		Threshold: spec.Threshold.String(), Quorum: spec.Quorum.String(), Status: store.MotionAwaitingSecond,
		CreatedAt: now, ClosesAt: spec.Closes, Duration: spec.Duration}
	am.Reactions, am.Poll = f.ballotChannels(false)
	if need := spec.Quorum.Of(len(electorate)); need > len(electorate) {
		return commands.Refusef("A quorum of %d can never be reached: %s can vote here.", need, members(len(electorate)))
	}
	if err := r.Store.Motions().Create(ctx, am); err != nil {
		return err
	}
	if err := r.Store.Motions().Suspend(ctx, m.ID); err != nil {
		return err
	}
	m.Status = store.MotionSuspended
	edit, err := f.edit(ctx, m)
	if err != nil {
		return err
	}
	r.Say(r.Room, edit)
	r.Say(r.Room, msg.F("Voting on motion #%d is suspended while amendment #%d is decided.", m.Number, am.Number).
		With("quorum.motion", f.fields(m, len(electorate))))
	return f.open(ctx, &r.Effects, am, electorate, now, r.Prefix)
}

// kindWords name the kinds of motion that can't be amended, in a sentence.
func kindWords(kind string) msg.Text {
	switch kind {
	case kindElection:
		return msg.T("an election")
	case kindRecall:
		return msg.T("a recall")
	case kindRatification:
		return msg.T("a ratification")
	case kindRules:
		return msg.T("a change of the standing orders")
	case kindAffiliation:
		return msg.T("an affiliation")
	case kindDisaffiliation:
		return msg.T("a disaffiliation")
	case kindFederal:
		return msg.T("a federal motion")
	}
	return msg.T("a motion of kind `%s`", kind)
}

// mayWithdraw refuses withdrawing an amendment: the main motion would stay
// suspended.
func (a *Amendments) mayWithdraw(_ context.Context, m *store.Motion, _ id.UserID) error {
	return commands.Refusef("An amendment can't be withdrawn: the vote on motion #%d waits for it. Vote it down instead.", a.mainNumber(m))
}

func (a *Amendments) mainNumber(m *store.Motion) int {
	p, _ := decodePayload[amendmentPayload](m)
	return p.Number
}

// fields adds quorum.amendment to an amendment's notices.
func (a *Amendments) fields(m *store.Motion) map[string]any {
	p, err := decodePayload[amendmentPayload](m)
	if err != nil {
		return nil
	}
	return map[string]any{"quorum.amendment": map[string]any{"motion": p.Number, "old_text": p.Old, "new_text": m.Text}}
}

// decided applies an amendment's outcome to the main motion.
func (a *Amendments) decided(ctx context.Context, fx *commands.Effects, am *store.Motion, outcome Outcome) error {
	f := a.motions
	st := a.Store
	p, err := decodePayload[amendmentPayload](am)
	if err != nil {
		return err
	}
	m, ok, err := st.Motions().Get(ctx, p.Motion)
	if err != nil || !ok {
		return err
	}
	if m.Status != store.MotionSuspended {
		return nil // cannot happen: nothing else moves a suspended motion
	}
	now := am.ClosedAt
	left := time.Duration(p.LeftMS) * time.Millisecond
	electorate, err := st.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return err
	}
	if outcome != Carried {
		if err := st.Motions().Resume(ctx, m.ID, now.Add(left)); err != nil {
			return err
		}
		m.Status, m.ClosesAt = store.MotionOpen, now.Add(left)
		edit, err := f.edit(ctx, m)
		if err != nil {
			return err
		}
		fx.Say(m.Room, edit)
		fx.Say(m.Room, msg.F("Amendment #%d did not carry: voting on motion #%d, unchanged, resumes until %s.", am.Number, m.Number,
			timespec.Human(m.ClosesAt, f.Config.Location(m.Room))).With("quorum.motion", f.fields(m, electorate)))
		return nil
	}
	o, err := f.ordersOf(ctx, m.Room)
	if err != nil {
		return err
	}
	_, _, least, _ := o.least(m.Kind)
	closes := now.Add(max(least, left))
	old := m.Text
	if m.Poll {
		// The poll shows the old wording: it ends here, and answers to it no
		// longer count (respond). Its end is said in the room's language.
		lang, err := f.Lang(ctx, m.Room)
		if err != nil {
			return err
		}
		ended := msg.T("Motion #%d was amended by amendment #%d: this poll is closed. Vote on the new wording on the motion's notice.", m.Number, am.Number)
		fx.Event(m.Room, f.pollEnd(m, lang, ended.In(lang), f.fields(m, electorate)))
	}
	voters, err := st.Motions().Amend(ctx, m.ID, am.Text, now, closes)
	if err != nil {
		return err
	}
	m.Text, m.Status, m.OpenedAt, m.ClosesAt, m.Yes, m.No, m.Abstain = am.Text, store.MotionOpen, now, closes, 0, 0, 0
	m.Poll, m.Reactions, m.SettlesAt = false, true, time.Time{}
	m.Payload = encodePayload(mainPayload{AmendedAt: now.UnixMilli()})
	if err := st.Motions().SetPayload(ctx, m.ID, m.Payload); err != nil {
		return err
	}
	said, err := f.RecordChange(ctx, m.Room, "motion.amended", map[string]any{
		"motion": m.Number, "amendment": am.Number, "old_text": old, "new_text": m.Text, "votes_cleared": len(voters),
		"closes_at": closes.UTC().Format(time.RFC3339),
	}, msg.FromText(msg.N(len(voters),
		"**Motion #%d is amended** by amendment #%d. The %d vote cast on it is cleared; vote again on the new wording until %s.",
		"**Motion #%d is amended** by amendment #%d. The %d votes cast on it are cleared; vote again on the new wording until %s.",
		m.Number, am.Number, len(voters), timespec.Human(closes, f.Config.Location(m.Room)))))
	if err != nil {
		return err
	}
	edit, err := f.edit(ctx, m)
	if err != nil {
		return err
	}
	fx.Say(m.Room, edit)
	fx.Say(m.Room, said.With("quorum.motion", f.fields(m, electorate)))
	for _, u := range voters {
		fx.DM(u, msg.F("Motion #%d in %s was amended (amendment #%d), so your vote on it was cleared. Its new wording:\n%s\nVote again by reacting on its notice or with `%s`.",
			m.Number, m.Room.String(), am.Number, m.Text, voteOn(f.Cmd(""), m.Number)))
	}
	return nil
}

// castOnOldWording says whether a vote sent at at on m was cast before m
// was amended (a late vote on the old wording).
func castOnOldWording(m *store.Motion, at time.Time) bool {
	var p mainPayload
	if m.Kind != "motion" || json.Unmarshal([]byte(m.Payload), &p) != nil || p.AmendedAt == 0 {
		return false
	}
	return at.Before(time.UnixMilli(p.AmendedAt))
}
