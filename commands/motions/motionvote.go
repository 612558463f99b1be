package motions

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// ballot is one act of voting, however it arrived.
type ballot struct {
	motion *store.Motion
	voter  id.UserID
	choice Choice
	event  id.EventID
	at     time.Time
}

// cast applies a ballot by the rules: only the electorate, only while the
// motion is open and before it closes, by the ballot's own time: its
// deadline, or its settle close once everyone has voted (so that an act
// caught up after a restart is judged as it would have been live). A
// refused ballot changes nothing and its voter is told why, privately, once
// per motion. It returns the refusal (nil if counted) so a text vote can
// be answered directly.
func (f *Feature) cast(ctx context.Context, fx *commands.Effects, b ballot) (*msg.Text, error) {
	m := b.motion
	st := f.Store
	var refusal msg.Text
	switch {
	case m.Secret:
		refusal = msg.T("Motion #%d is a secret ballot, so reactions and votes in the room are not counted "+
			"(a reaction's emoji travels in the clear to the homeserver). Vote here instead: `%s`.", m.Number, voteSecret(f.Cmd(""), m.BallotCode))
	case m.Status == store.MotionAwaitingSecond:
		refusal = msg.T("Motion #%d is not open for votes yet: it needs a second first.", m.Number)
	case m.Status == store.MotionSuspended:
		refusal = msg.T("Voting on motion #%d is suspended while an amendment to it is decided, so your vote was not counted; vote again once it resumes.", m.Number)
	case m.Status == store.MotionOpen && castOnOldWording(m, b.at):
		refusal = msg.T("Your vote on motion #%d was cast before it was amended, so it was not counted; vote again on the new wording.", m.Number)
	case m.Status != store.MotionOpen || b.at.After(m.ClosesAt):
		refusal = msg.T("Motion #%d is closed, so your vote was not counted.", m.Number)
	case settled(m, b.at):
		refusal = msg.T("Motion #%d closed at %s, %s after everyone had voted, so your vote after that was not counted.",
			m.Number, timespec.Layout(m.SettlesAt, f.Config.Location(m.Room), "15:04:05"), f.settleTime())
	default:
		in, err := st.Motions().InElectorate(ctx, m.ID, b.voter)
		if err != nil {
			return nil, err
		}
		if in {
			return nil, f.count(ctx, fx, b)
		}
		refusal = msg.T("Your vote on motion #%d was not counted: only the members of the room when it opened can vote on it.", m.Number)
	}
	return &refusal, f.tellOnce(ctx, fx, m, b.voter, refusal)
}

// count records a ballot that the rules let through.
func (f *Feature) count(ctx context.Context, fx *commands.Effects, b ballot) error {
	recorded, err := f.Store.Votes().Cast(ctx, store.Act{Motion: b.motion.ID, Voter: b.voter, Choice: string(b.choice), Event: b.event, Time: b.at})
	if err != nil || !recorded {
		return err
	}
	return f.changed(ctx, fx, b.motion, b.at)
}

// settled says whether an act at at comes at or after m's settle close:
// its whole electorate had voted a settle time before, so m closed then
// (as the scheduler closes it, at that instant), even if the bot, down or
// behind, has not closed it yet.
func settled(m *store.Motion, at time.Time) bool {
	return !m.SettlesAt.IsZero() && !at.Before(m.SettlesAt)
}

// tellOnce DMs a voter why their vote did not count, at most once a motion.
func (f *Feature) tellOnce(ctx context.Context, fx *commands.Effects, m *store.Motion, user id.UserID, why msg.Text) error {
	first, err := f.Store.Motions().TellOnce(ctx, m.ID, user)
	if err != nil || !first {
		return err
	}
	fx.DM(user, msg.FromText(why))
	return nil
}

// changed follows up an act of voting on before (the motion as it was
// read before the act), made at at (the act's own time): if the tally
// moved, schedule the notice's edit, and close the motion once the whole
// electorate has voted. Moving a vote always changes the counts, so equal
// counts mean nothing changed (a repeated choice, or an act behind a later
// one).
func (f *Feature) changed(ctx context.Context, fx *commands.Effects, before *store.Motion, at time.Time) error {
	st := f.Store
	m, ok, err := st.Motions().Get(ctx, before.ID)
	if err != nil || !ok || m.Yes == before.Yes && m.No == before.No && m.Abstain == before.Abstain && m.Turnout == before.Turnout {
		return err
	}
	now := f.Clock.Now()
	edit, gap := now, editInterval
	if m.Secret {
		// A secret ballot's turnout moves on whole minutes: an edit right
		// after each ballot would tell the room (and the edit queue) when
		// each one came.
		edit, gap = now.Truncate(time.Minute).Add(time.Minute), time.Minute
	}
	if err := st.Edits().Schedule(ctx, anchorMotion, m.ID, edit, gap); err != nil {
		return err
	}
	electorate, err := st.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return err
	}
	return f.settle(ctx, fx, m, m.Voted() >= electorate, at, now)
}

// settle closes m early once its whole electorate has voted, after the
// settle time (motions.settle), so that a member who tapped the wrong
// answer can still change it: a change within it counts. Someone
// withdrawing their vote meanwhile stops the countdown; the next complete
// electorate starts it again. A secret ballot, whose votes cannot change,
// closes at once.
//
// The countdown runs from at, the time of the act that completed the
// electorate (or of the latest vote, if that one came out of order), not
// from when the bot handled it: after a restart or a gap in the sync, the
// settle close is where it would have been had the bot been running, and
// acts dated at or after it are refused (cast, Redaction), so the result
// does not depend on when the bot saw them. The scheduler closes the
// motion once the settle close has passed (Due); now is when the bot
// handles the act, the closing time of a motion closed at once.
func (f *Feature) settle(ctx context.Context, fx *commands.Effects, m *store.Motion, complete bool, at, now time.Time) error {
	wait := f.settleTime()
	switch {
	case complete && (wait == 0 || m.Secret):
		return f.decide(ctx, fx, m, now, whyEveryone)
	case complete && m.SettlesAt.IsZero():
		// An act can arrive after a later one (from a slow server): the
		// countdown then starts at the latest vote that stands, later
		// than the electorate became complete, never earlier, so that a
		// correction in time is not refused.
		latest, err := f.Store.Votes().Latest(ctx, m.ID)
		if err != nil {
			return err
		}
		m.SettlesAt = commands.Latest(at, latest).Add(wait)
		return f.Store.Motions().Settle(ctx, m.ID, m.SettlesAt)
	case !complete && !m.SettlesAt.IsZero():
		m.SettlesAt = time.Time{}
		return f.Store.Motions().Settle(ctx, m.ID, m.SettlesAt)
	}
	return nil
}

// whyEveryone is the reason, for the log, of a motion closed because its
// whole electorate voted.
const whyEveryone = "everyone has voted" // not for members: the log's reason

// settleTime is motions.settle (checked at start).
func (f *Feature) settleTime() time.Duration {
	d, err := time.ParseDuration(f.Config.Motions.Settle)
	if err != nil || d < 0 {
		return 0
	}
	return min(d, maxSettle)
}

// react is a reaction on a motion's notice.
func (f *Feature) react(ctx context.Context, fx *commands.Effects, ref int64, rx commands.Reaction) error {
	m, ok, err := f.Store.Motions().Get(ctx, ref)
	if err != nil || !ok {
		return err
	}
	if !m.Reactions && !m.Secret {
		if m.Status != store.MotionOpen {
			return nil
		}
		return f.tellOnce(ctx, fx, m, rx.Sender, msg.T("Reactions on motion #%d are not counted: vote in its poll, or with `%s`.",
			m.Number, voteOn(f.Cmd(""), m.Number)))
	}
	choice, isVote := f.choices()[commands.NormalizeKey(rx.Key)]
	if !isVote {
		// An unknown emoji is not a vote and changes nothing; say so once,
		// in case it was meant as one.
		if m.Status != store.MotionOpen || m.Secret {
			return nil
		}
		yes, no, abstain := f.keys()
		return f.tellOnce(ctx, fx, m, rx.Sender, msg.T("Your %s on motion #%d is not a vote: react %s yes, %s no or %s abstain.",
			rx.Key, m.Number, yes, no, abstain))
	}
	_, err = f.cast(ctx, fx, ballot{motion: m, voter: rx.Sender, choice: choice, event: rx.Event, at: rx.Time})
	return err
}

func (f *Feature) choices() map[string]Choice {
	c := f.Config.Motions
	return choiceKeys(c.Yes, c.No, c.Abstain)
}

// redaction withdraws the vote of a redacted reaction, poll answer or
// !vote, while the motion is open and before it closes, by the
// redaction's own time (its deadline, or its settle close, as for cast);
// afterwards the result stands. The voter is told by DM.
func (f *Feature) Redaction(ctx context.Context, fx *commands.Effects, rd commands.Redaction) (bool, error) {
	st := f.Store
	act, found, err := st.Votes().Act(ctx, rd.Redacts)
	if err != nil {
		return false, err
	}
	if !found {
		return f.questionRedaction(ctx, fx, rd)
	}
	m, ok, err := st.Motions().Get(ctx, act.Motion)
	if err != nil || !ok {
		return true, err
	}
	// A redaction acts only in its own room: one sent elsewhere naming this
	// event was never applied by the homeserver.
	if m.Room != rd.Room || m.Status != store.MotionOpen || rd.Time.After(m.ClosesAt) || settled(m, rd.Time) || rd.Sender != act.Voter {
		return true, nil
	}
	if err := st.Votes().Withdraw(ctx, rd.Redacts); err != nil {
		return true, err
	}
	// A redaction is never encrypted: the homeserver could have sent it in
	// the voter's name. Tell the voter, so that it does not go unseen.
	if act.Choice == store.NoChoice {
		fx.DM(act.Voter, msg.F("The poll answer with which you withdrew your vote on motion #%d was deleted, so your vote before it, if any, counts again. "+
			"If you did not delete it, vote again and tell the room: whoever runs the homeserver can delete in your name.", m.Number))
	} else {
		fx.DM(act.Voter, msg.F("The reaction, poll answer or `%s` with which you voted %s on motion #%d was deleted, so I no longer count it. "+
			"If you did not delete it, vote again and tell the room: whoever runs the homeserver can delete in your name.",
			f.Cmd("vote"), voteWord{choice: Choice(act.Choice)}, m.Number))
	}
	return true, f.changed(ctx, fx, m, rd.Time)
}

// example is `!vote 3 yes`, in the reader's words.
func example(prefix string) voteCommand {
	return voteCommand{prefix: prefix, ref: "3", choices: []Choice{Yes}}
}

func (f *Feature) vote(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	if len(words) != 2 {
		return commands.Refusef("Say which motion and how you vote, for example `%s`.", example(r.Prefix))
	}
	if r.InDM {
		// A secret ballot, named by its ballot code or its number.
		return f.castSecret(ctx, r, words[0], words[1])
	}
	n, ok := commands.ParseNumber(words[0])
	if !ok {
		return commands.Refusef("Say which motion and how you vote, for example `%s`.", example(r.Prefix))
	}
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	choice, ok := parseChoice(words[1], lang)
	if !ok {
		return notAVote(words[1], example(r.Prefix))
	}
	m, err := f.find(ctx, r, n)
	if err != nil {
		return err
	}
	if m.Secret && m.Status == store.MotionOpen {
		return commands.Refusef("Motion #%d is a secret ballot: send your vote to me in our direct chat (I sent you a ballot there), not in the room.", m.Number)
	}
	refusal, err := f.cast(ctx, &r.Effects, ballot{motion: m, voter: r.Sender, choice: choice, event: r.Event, at: r.Time})
	if err != nil {
		return err
	}
	if refusal != nil {
		return &commands.Refusal{Message: msg.FromText(*refusal)}
	}
	r.Replyf("Your vote on motion #%d: %s.", m.Number, voteWord{choice: choice})
	return nil
}

// notAVote refuses a word `!vote` does not read, naming the words it does
// in the reader's language (English ones are read too, but a room that
// speaks another language is shown its own).
func notAVote(word string, example voteCommand) error {
	return commands.Refusef("`%s` is not a vote: say `%s`, `%s` or `%s`, for example `%s`.", commands.Shorten(word, 20),
		voteWord{choice: Yes, letter: example.letter}, voteWord{choice: No, letter: example.letter}, voteWord{choice: Abstain, letter: example.letter}, example)
}

func (f *Feature) second(ctx context.Context, r *commands.Request) error {
	n, ok := commands.ParseNumber(r.Args)
	if !ok {
		return commands.Refusef("Which motion? For example `%s`.", r.Cmd("second 3"))
	}
	m, err := f.find(ctx, r, n)
	if err != nil {
		return err
	}
	switch {
	case m.Status != store.MotionAwaitingSecond:
		return commands.Refusef("Motion #%d does not need a second (it is %s).", m.Number, statusWords(m.Status))
	case m.Proposer == r.Sender:
		return commands.Refusef("A motion needs a second from someone other than its proposer.")
	case !m.ClosesAt.IsZero() && m.Duration == 0 && !m.ClosesAt.After(r.Clock.Now()):
		return commands.Refusef("Motion #%d was to close %s, which has passed. Propose it again with a new `--closes`.", m.Number, timespec.Human(m.ClosesAt, r.Location()))
	}
	electorate, err := f.electorate(ctx, r.Room)
	if err != nil {
		return err
	}
	m.Seconder = r.Sender
	return f.open(ctx, &r.Effects, m, electorate, r.Clock.Now(), r.Prefix)
}

func (f *Feature) withdraw(ctx context.Context, r *commands.Request) error {
	n, ok := commands.ParseNumber(r.Args)
	if !ok {
		return commands.Refusef("Which motion? For example `%s`.", r.Cmd("withdraw 3"))
	}
	m, err := f.find(ctx, r, n)
	if err != nil {
		return err
	}
	if m.Proposer != r.Sender {
		return commands.Refusef("Only the proposer can withdraw motion #%d.", m.Number)
	}
	if m.Status != store.MotionOpen && m.Status != store.MotionAwaitingSecond {
		return commands.Refusef("Motion #%d is already %s.", m.Number, statusWords(m.Status))
	}
	if k, ok := f.kinds[m.Kind]; ok && k.mayWithdraw != nil {
		if err := k.mayWithdraw(ctx, m, r.Sender); err != nil {
			return err
		}
	}
	now := r.Clock.Now()
	if err := r.Store.Motions().Close(ctx, m.ID, store.MotionWithdrawn, now, m.Yes, m.No, m.Abstain); err != nil {
		return err
	}
	m.Status, m.ClosedAt = store.MotionWithdrawn, now
	electorate, err := r.Store.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return err
	}
	return f.announce(ctx, &r.Effects, m, f.withFields(msg.F("Motion #%d was withdrawn by its proposer.", m.Number), m, electorate))
}

func (f *Feature) close(ctx context.Context, r *commands.Request) error {
	n, ok := commands.ParseNumber(r.Args)
	if !ok {
		return commands.Refusef("Which motion? For example `%s`.", r.Cmd("close 3"))
	}
	if p, isPoll, err := r.Store.Polls().ByNumber(ctx, r.Room, n); err != nil {
		return err
	} else if isPoll {
		return f.closeQuestionNow(ctx, r, p)
	}
	m, err := f.find(ctx, r, n)
	if err != nil {
		return err
	}
	if m.Status != store.MotionOpen {
		return commands.Refusef("Motion #%d is not open (it is %s).", m.Number, statusWords(m.Status))
	}
	if k, ok := f.kinds[m.Kind]; ok && k.mayClose != nil {
		if err := k.mayClose(ctx, m, r.Sender); err != nil {
			return err
		}
	}
	moderator, err := r.Env.IsModerator(ctx, r.Room, r.Sender)
	if err != nil {
		return err
	}
	if !moderator {
		electorate, err := r.Store.Motions().ElectorateSize(ctx, m.ID)
		if err != nil {
			return err
		}
		switch {
		case m.Proposer != r.Sender:
			return commands.Refusef("Only a room moderator can close motion #%d early; its proposer can once everyone has voted.", m.Number)
		case m.Voted() < electorate:
			return commands.Refusef("Motion #%d stays open until everyone has voted (%d of %d so far) or it closes %s.",
				m.Number, m.Voted(), electorate, timespec.Human(m.ClosesAt, r.Location()))
		case !m.SettlesAt.IsZero() && !settled(m, r.Time):
			// The settle time is there so that a mis-tap can be corrected:
			// the proposer's close, judged by its own time like a vote,
			// does not cut it short. It closes by itself then.
			r.Replyf("Everyone has voted on motion #%d: it closes by itself at %s, so that a member who tapped the wrong answer can still change it.",
				m.Number, timespec.Layout(commands.Earliest(m.SettlesAt, m.ClosesAt), r.Location(), "15:04:05"))
			return nil
		}
	}
	// not for members: the log's reason
	return f.decide(ctx, &r.Effects, m, r.Clock.Now(), "closed early by "+r.Sender.String())
}

func (f *Feature) list(ctx context.Context, r *commands.Request) error {
	pending, err := r.Store.Motions().Pending(ctx, r.Room)
	if err != nil {
		return err
	}
	questions, err := r.Store.Polls().Open(ctx, r.Room)
	if err != nil {
		return err
	}
	elections, err := r.Store.Elections().Open(ctx, r.Room)
	if err != nil {
		return err
	}
	if len(pending) == 0 && len(questions) == 0 && len(elections) == 0 {
		r.Replyf("No open motions. Propose one with `%s`.", r.Cmd("motion <text>"))
		return nil
	}
	now := r.Clock.Now()
	// Motions, polls and elections share one numbering: list them in its order.
	type line struct {
		number int
		text   msg.Text
	}
	var lines []line
	for _, m := range pending {
		text := shorten(m.Text)
		if m.Status == store.MotionAwaitingSecond {
			lines = append(lines, line{m.Number, msg.T("#%d %s — awaiting a second", m.Number, text)})
			continue
		}
		electorate, err := r.Store.Motions().ElectorateSize(ctx, m.ID)
		if err != nil {
			return err
		}
		lines = append(lines, line{m.Number, msg.T("#%d %s — %d of %d voted, closes in %s", m.Number, text, m.Voted(), electorate, timespec.Remaining(m.ClosesAt.Sub(now)))})
	}
	for _, q := range questions {
		text, err := f.questionLine(ctx, q, now)
		if err != nil {
			return err
		}
		lines = append(lines, line{q.Number, text})
	}
	for _, e := range elections {
		left, show := timespec.Remaining(e.ClosesAt.Sub(now)), r.Cmd(fmt.Sprintf("election %d", e.Number))
		text := msg.T("#%d election: %s — ranking closes in %s (`%s`)", e.Number, shorten(e.Text), left, show)
		if e.Status == store.ElectionNominations {
			text = msg.T("#%d election: %s — nominations close in %s (`%s`)", e.Number, shorten(e.Text), left, show)
		}
		lines = append(lines, line{e.Number, text})
	}
	slices.SortFunc(lines, func(a, b line) int { return cmp.Compare(a.number, b.number) })
	out := msg.F("**Open motions**")
	for _, l := range lines {
		out = out.AppendText(l.text)
	}
	r.Reply(out)
	return nil
}

// shorten cuts a motion's or poll's text to fit one line of a list.
func shorten(text string) string { return commands.Shorten(text, 60) }

// decide closes m now: the tally is recounted from the acts, the result
// stored and announced, and the kind's consequences applied, all in the
// caller's transaction.
func (f *Feature) decide(ctx context.Context, fx *commands.Effects, m *store.Motion, now time.Time, why string) error {
	st := f.Store
	yes, no, abstain, receipts, err := f.recount(ctx, m)
	if errors.Is(err, store.ErrSealKey) {
		return f.unopenable(ctx, fx, m, now, err)
	} else if err != nil {
		return err
	}
	if !m.Secret && (yes != m.Yes || no != m.No || abstain != m.Abstain) {
		// The counters are a cache of the acts; the acts win. A mismatch is a
		// bug worth hearing about, not a reason to publish a wrong result.
		f.log.Error().Int64("motion", m.ID).Msg("Standing tally differed from the recount; using the recount")
	}
	th, err := ParseThreshold(m.Threshold)
	if err != nil {
		return err
	}
	outcome := Decide(Tally{yes, no, abstain}, th, m.QuorumCount)
	if err := st.Motions().Close(ctx, m.ID, outcome, now, yes, no, abstain); err != nil {
		return err
	}
	// A secret ballot's turnout was the count of its sealed box, destroyed
	// by Close: its votes are now in the tally, and counting both would
	// publish (and record) twice the turnout.
	m.Status, m.ClosedAt, m.Yes, m.No, m.Abstain, m.Turnout = outcome, now, yes, no, abstain, 0
	electorate, err := st.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return err
	}
	f.log.Info().Int64("motion", m.ID).Str("outcome", string(outcome)).Str("why", why).Msg("Motion decided")
	content := f.fields(m, electorate)
	content["proposer"] = m.Proposer
	content["opened_at"] = m.OpenedAt.UTC().Format(time.RFC3339)
	content["closed_at"] = now.UTC().Format(time.RFC3339)
	if m.Secret {
		content["receipts"] = receipts
	}
	entry, recField, err := f.RecordDecision(ctx, m.Room, "motion.result", content)
	if err != nil {
		return err
	}
	// The kind's consequences are applied once the result is recorded, in
	// time for the result and the notice's final edit to carry their
	// fields, and said after the result.
	var consequences commands.Effects
	if k, ok := f.kinds[m.Kind]; ok && k.decided != nil {
		if err := k.decided(ctx, &consequences, m, outcome); err != nil {
			return err
		}
	}
	result := f.withFields(msg.F("Motion #%d: %s. Threshold: %s. %s", m.Number, resultWords(m, electorate), thresholdName(m.Threshold), commands.RecordLine(entry)), m, electorate)
	var parts []msg.Message
	if m.Secret {
		result, parts = withReceipts(result, m, receipts)
	}
	if err := f.announce(ctx, fx, m, result.With("quorum.record", recField)); err != nil {
		return err
	}
	for _, p := range parts {
		fx.Say(m.Room, p)
	}
	fx.Then(&consequences)
	return nil
}

// withReceipts adds a secret ballot's receipts, each code with its vote, to
// its result: in its text and as `receipts` in its `quorum.motion`. More
// than one message holds (a few hundred) go in the messages returned, each
// a reply to the notice with its share as `receipts` in `quorum.receipts`,
// and the result says how many (`receipts_parts`).
func withReceipts(result msg.Message, m *store.Motion, receipts map[string]string) (msg.Message, []msg.Message) {
	list := func(codes []string) msg.Text {
		items := make([]any, len(codes))
		for i, code := range codes {
			items[i] = msg.List(" ", code, voteWord{choice: Choice(receipts[code])})
		}
		return msg.List(" · ", items...)
	}
	fields := result.Fields["quorum.motion"].(map[string]any)
	codes := slices.Sorted(maps.Keys(receipts))
	// A code, a vote in any language and the separator: 30 bytes at most.
	portions := commands.Portions(codes, func(string) int { return 30 }, commands.MessageBudget)
	if len(portions) <= 1 {
		fields["receipts"] = receipts
		return result.Append("Receipts, to find yours: %s", list(codes)), nil
	}
	fields["receipts_parts"] = len(portions)
	parts := make([]msg.Message, len(portions))
	for i, codes := range portions {
		share := make(map[string]string, len(codes))
		for _, code := range codes {
			share[code] = receipts[code]
		}
		parts[i] = msg.F("Receipts of motion #%d (%d of %d), to find yours: %s", m.Number, i+1, len(portions), list(codes)).
			With("quorum.receipts", map[string]any{"motion": m.Number, "part": i + 1, "parts": len(portions), "receipts": share})
		parts[i].ReplyToAnchor = &msg.Anchor{Kind: anchorMotion, Ref: m.ID}
	}
	return result.Append("Receipts, to find yours: in the %d messages after this one.", len(portions)), parts
}

// announce posts result as a reply to the motion's notice and edits the
// notice to its final state.
func (f *Feature) announce(ctx context.Context, fx *commands.Effects, m *store.Motion, result msg.Message) error {
	result.ReplyToAnchor = &msg.Anchor{Kind: anchorMotion, Ref: m.ID}
	fx.Say(m.Room, result)
	edit, err := f.edit(ctx, m)
	fx.Say(m.Room, edit)
	if m.Poll {
		// The poll's end is not a message: it says the result in the
		// room's language now.
		lang, err := f.Lang(ctx, m.Room)
		if err != nil {
			return err
		}
		fields, _ := result.Fields["quorum.motion"].(map[string]any)
		fx.Event(m.Room, f.pollEnd(m, lang, result.Localize(lang).Body, fields))
	}
	return err
}

// edit is the notice of m as an edit of the original.
func (f *Feature) edit(ctx context.Context, m *store.Motion) (msg.Message, error) {
	e, err := f.notice(ctx, m, f.Cmd(""))
	e.Edit, e.Anchor = e.Anchor, nil
	return e, err
}

// due closes motions whose deadline passed (also those that passed while
// the bot was down: once, on start).
func (f *Feature) Due(ctx context.Context, now time.Time) (time.Time, error) {
	st := f.Store
	closing, err := st.Motions().DueToClose(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	err = commands.EachInTx(ctx, f.Env, closing, func(ctx context.Context, fx *commands.Effects, m *store.Motion) error {
		fx.From(m.Room) // what a decision DMs members (a kind's consequences) is about m's room
		fresh, ok, err := st.Motions().Get(ctx, m.ID)
		if err != nil || !ok || fresh.Status != store.MotionOpen {
			return err
		}
		if fresh.ClosesAt.After(now) {
			if fresh.SettlesAt.IsZero() || fresh.SettlesAt.After(now) {
				return nil // someone withdrew since it was listed
			}
			return f.decide(ctx, fx, fresh, now, whyEveryone)
		}
		return f.decide(ctx, fx, fresh, now, "deadline")
	})
	if err != nil {
		return time.Time{}, err
	}
	next, err := st.Motions().NextClose(ctx)
	if err != nil {
		return time.Time{}, err
	}
	nextQuestion, err := f.dueQuestions(ctx, now)
	return commands.Sooner(next, nextQuestion), err
}

// NoticeEdits implements commands.NoticeEditor: an open motion's notice
// shows the live tally.
func (f *Feature) NoticeEdits() map[string]commands.EditFunc {
	return map[string]commands.EditFunc{anchorMotion: f.editTally, anchorQuestion: f.editQuestion}
}

// editTally edits the notice of open motion id to show its tally.
func (f *Feature) editTally(ctx context.Context, fx *commands.Effects, id int64) error {
	m, ok, err := f.Store.Motions().Get(ctx, id)
	if err != nil || !ok || m.Status != store.MotionOpen {
		return err
	}
	edit, err := f.edit(ctx, m)
	fx.Say(m.Room, edit)
	return err
}
