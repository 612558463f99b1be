package motions

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// anchorMotion is the anchor kind of a motion's notice: reactions on it are
// votes.
const anchorMotion = "motion"

// maxSecretPerDay bounds the secret ballots one member opens in a room in
// a day: each sends every member a DM.
const maxSecretPerDay = 3

// editInterval is the least time between two edits of a motion's notice, so
// that a burst of votes makes one edit rather than one per vote.
const editInterval = 3 * time.Second

// motionKind lets another feature (delegates) give a kind of motion its own
// consequences, while voting, tallying and closing stay here.
type motionKind struct {
	// decided runs in the closing transaction, after the result is stored.
	decided func(ctx context.Context, fx *commands.Effects, m *store.Motion, outcome Outcome) error
	// mayClose refuses !close to someone who must not close this motion
	// early (a delegate their own recall); nil allows the usual rules.
	mayClose func(ctx context.Context, m *store.Motion, user id.UserID) error
	// mayWithdraw refuses !withdraw to a proposer who must not withdraw
	// this motion (a recall once voting started); nil allows it.
	mayWithdraw func(ctx context.Context, m *store.Motion, user id.UserID) error
	// fields adds machine-readable content fields to every notice.
	fields func(m *store.Motion) map[string]any
	// inMotion adds fields to quorum.motion itself.
	inMotion func(m *store.Motion) map[string]any
}

// Feature is motions, the assembly's core: proposals decided by the room's
// vote.
type Feature struct {
	*commands.Env
	log   zerolog.Logger
	kinds map[string]motionKind
	// federal, if set, opens a motion proposed in a council (where the
	// branches decide); it reports false in any other room.
	federal func(ctx context.Context, r *commands.Request, spec motionSpec) (bool, error)
	// mandate, if set, is told of each mandate that starts or ends (a
	// branch's council delegates are seated in its councils).
	mandate func(ctx context.Context, fx *commands.Effects, del *store.Delegation) error
	// closers decide the polls other features asked (Ask), by kind.
	closers map[string]Closed
}

// New makes the motions feature.
func New(env *commands.Env, log zerolog.Logger) *Feature {
	f := &Feature{Env: env, log: log, kinds: map[string]motionKind{}, closers: map[string]Closed{}}
	f.kinds[kindRules] = motionKind{decided: f.rulesDecided, fields: rulesField}
	return f
}

// Group implements commands.Feature.
func (f *Feature) Group() string { return "Motions" }

func (f *Feature) Commands() []*commands.Command {
	return []*commands.Command{
		{
			Name:    "motion",
			Usage:   "motion [--threshold T] [--quorum Q] [--closes WHEN] [--secret] <text>",
			Summary: "propose a motion for the room to vote on (or `motion N` to show one)",
			Help: "Members vote by reacting on the motion's notice: 👍 yes, 👎 no, 🤷 abstain, or with `vote N yes|no|abstain`. " +
				"Threshold: `majority` (more yes than no), `2/3`, `3/4`, `unanimous` or a percentage, of the votes cast without abstentions. " +
				"Quorum: how many members must vote, abstentions included, as a share (`50%`) or a number. " +
				"Closes: a duration (`48h`) or a time (`friday 18:00`, `2026-12-01 18:00`) in the room's timezone. " +
				"`--secret`: votes are cast privately, in a direct chat with me, each with a receipt code.",
			Examples: []string{
				"motion Pay the rent from the strike fund",
				"motion --threshold 2/3 --quorum 50% --closes friday 18:00 Join the regional federation",
				"motion 3",
			},
			Handler: f.motion,
		},
		{
			Name:     "motions",
			Usage:    "motions",
			Summary:  "list open motions, polls and elections with time left",
			Handler:  f.list,
			Examples: []string{"motions"},
		},
		f.pollCommand(),
		{
			Name:    "vote",
			Usage:   "vote N yes|no|abstain",
			Summary: "vote on motion N without reacting",
			Help: "Your latest vote counts; you can change it until the motion closes. " +
				"A secret ballot is voted in your direct chat with me, with the code its ballot gives (`vote K3P7 y`): once, and for good.",
			Examples: []string{"vote 3 yes", "vote 3 abstain", "vote K3P7 n"},
			Handler:  f.vote,
		},
		{
			Name:     "second",
			Usage:    "second N",
			Summary:  "second motion N so that it opens for votes (when the room requires it)",
			Examples: []string{"second 3"},
			Handler:  f.second,
		},
		{
			Name:     "withdraw",
			Usage:    "withdraw N",
			Summary:  "withdraw your motion N before it closes",
			Examples: []string{"withdraw 3"},
			Handler:  f.withdraw,
		},
		{
			Name:     "close",
			Usage:    "close N",
			Summary:  "close motion or poll N now (moderators; a motion's proposer once everyone has voted and the settle time has passed, a poll's author any time)",
			Examples: []string{"close 3"},
			Handler:  f.close,
		},
		f.rulesCommand(),
	}
}

func (f *Feature) Reactions() map[string]commands.ReactionHandler {
	return map[string]commands.ReactionHandler{anchorMotion: f.react}
}

// defaults returns the room's motion defaults, parsed (validated at start).
func (f *Feature) defaults(r *commands.Request) (motionSpec, error) {
	d := r.Config.MotionDefaults(r.Room)
	th, err := ParseThreshold(d.Threshold)
	if err != nil {
		return motionSpec{}, fmt.Errorf("config motions.threshold: %w", err)
	}
	q, err := ParseQuorum(d.Quorum)
	if err != nil {
		return motionSpec{}, fmt.Errorf("config motions.quorum: %w", err)
	}
	closes, dur, err := deadline(d.Closes, r.Clock.Now(), r.Location())
	if err != nil {
		return motionSpec{}, fmt.Errorf("config motions.closes: %w", err)
	}
	return motionSpec{Kind: "motion", Payload: "{}", Threshold: th, Quorum: q, Closes: closes, Duration: dur}, nil
}

func (f *Feature) motion(ctx context.Context, r *commands.Request) error {
	if n, ok := commands.ParseNumber(r.Args); ok {
		m, err := f.find(ctx, r, n)
		if err != nil {
			return err
		}
		notice, err := f.notice(ctx, m, r.Prefix)
		r.Reply(notice)
		return err
	}
	spec, err := f.defaults(r)
	if err != nil {
		return err
	}
	if spec, err = parseMotionArgs(r, r.Args, spec); err != nil {
		return err
	}
	if f.federal != nil {
		if done, err := f.federal(ctx, r, spec); done || err != nil {
			return err
		}
	}
	_, err = f.propose(ctx, r, spec)
	return err
}

// find returns motion #n of the request's room or a friendly error.
func (f *Feature) find(ctx context.Context, r *commands.Request, n int) (*store.Motion, error) {
	m, ok, err := r.Store.Motions().ByNumber(ctx, r.Room, n)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, commands.Refusef("There is no motion #%d in this room. `%s` lists the open ones.", n, r.Cmd("motions"))
	}
	if m.Kind == store.KindContested {
		return nil, commands.Refusef("#%d is a contested election, not a motion: `%s` shows it.", n, r.Cmd(fmt.Sprintf("election %d", n)))
	}
	return m, nil
}

// propose stores a motion and opens it, or waits for a second if the room
// requires one. Other features (elections, recalls) propose through here.
func (f *Feature) propose(ctx context.Context, r *commands.Request, spec motionSpec) (*store.Motion, error) {
	now := r.Clock.Now()
	m := &store.Motion{
		Room: r.Room, Kind: spec.Kind, Payload: spec.Payload, Proposer: r.Sender, Text: spec.Text,
		Threshold: spec.Threshold.String(), Quorum: spec.Quorum.String(), Secret: spec.Secret,
		Status: store.MotionAwaitingSecond, CreatedAt: now, ClosesAt: spec.Closes, Duration: spec.Duration,
	}
	m.Reactions, m.Poll = f.ballotChannels(spec.Secret)
	electorate, err := f.electorate(ctx, r.Room)
	if err != nil {
		return nil, err
	}
	o, err := f.ordersOf(ctx, r.Room)
	if err != nil {
		return nil, err
	}
	if spec, err = o.apply(r, spec, len(electorate)); err != nil {
		return nil, err
	}
	m.Threshold, m.Quorum, m.ClosesAt, m.Duration = spec.Threshold.String(), spec.Quorum.String(), spec.Closes, spec.Duration
	if need := spec.Quorum.Of(len(electorate)); need > len(electorate) {
		return nil, commands.Refusef("A quorum of %d can never be reached: %s can vote here. Try `--quorum 50%%`.", need, members(len(electorate)))
	}
	if spec.Secret {
		// A secret ballot sends every member a DM: one member must not be able
		// to make the bot flood everyone.
		if opened, err := r.Store.Motions().SecretSince(ctx, r.Room, r.Sender, now.Add(-commands.DMLimitWindow)); err != nil {
			return nil, err
		} else if opened >= maxSecretPerDay {
			return nil, commands.Refusef("You have opened %d secret ballots here in the last day, the most I send for one member; ask a moderator or wait until tomorrow.", opened)
		}
	}
	if err := r.Store.Motions().Create(ctx, m); err != nil {
		return nil, err
	}
	if o.seconding {
		notice, err := f.notice(ctx, m, r.Prefix)
		r.Say(r.Room, notice)
		return m, err
	}
	return m, f.open(ctx, &r.Effects, m, electorate, now, r.Prefix)
}

// electorate is who may vote on a motion opened now: the joined members,
// less the bot and the configured ignored users.
func (f *Feature) electorate(ctx context.Context, room id.RoomID) ([]id.UserID, error) {
	members, err := f.Rooms.Members(ctx, room)
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	var out []id.UserID
	for _, u := range members {
		if u == f.Bot || slices.Contains(f.Config.IgnoredUsers, string(u)) {
			continue
		}
		out = append(out, u)
	}
	return out, nil
}

// open starts the vote on m and posts its notice.
func (f *Feature) open(ctx context.Context, fx *commands.Effects, m *store.Motion, electorate []id.UserID, now time.Time, prefix string) error {
	m.OpenedAt = now
	if m.Duration > 0 {
		m.ClosesAt = now.Add(m.Duration)
	}
	q, err := ParseQuorum(m.Quorum)
	if err != nil {
		return err
	}
	m.QuorumCount = q.Of(len(electorate))
	if err := f.Store.Motions().Open(ctx, m, electorate); err != nil {
		return err
	}
	notice, err := f.notice(ctx, m, prefix)
	if err != nil {
		return err
	}
	fx.Say(m.Room, notice)
	if m.Secret {
		f.sendBallots(fx, m, electorate, prefix)
	}
	if m.Poll {
		// The poll's text is not a message: it is written in the room's
		// language now.
		lang, err := f.Lang(ctx, m.Room)
		if err != nil {
			return err
		}
		fx.Event(m.Room, f.pollStart(m, lang))
	}
	return nil
}

// notice renders a motion's notice: how to vote, the rules, the live tally
// or the result. Every version carries quorum.motion.
func (f *Feature) notice(ctx context.Context, m *store.Motion, prefix string) (msg.Message, error) {
	loc := f.Config.Location(m.Room)
	electorate, err := f.Store.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return msg.Message{}, err
	}
	out := msg.F("**Motion #%d** (%s): %s", m.Number, msg.Pill(m.Proposer), m.Text)
	switch m.Status {
	case store.MotionAwaitingSecond:
		out = out.Append("It needs a second before it opens: anyone else can send `%s`.", prefix+"second "+strconv.Itoa(m.Number))
	case store.MotionOpen:
		if m.Secret {
			out = out.Append("**Secret ballot** `%s`: I have sent every member a ballot in a direct message; vote there with `%s`. Reactions here are not counted.",
				m.BallotCode, voteSecret(prefix, m.BallotCode))
		} else {
			out = out.AppendText(f.howToVote(m, prefix))
		}
		out = out.Append("Needs %s · quorum %d of %d · closes %s (in %s)", thresholdWords(m.Threshold), m.QuorumCount, electorate,
			timespec.Human(m.ClosesAt, loc), timespec.Remaining(m.ClosesAt.Sub(f.Clock.Now())))
		if m.Secret {
			out = out.Append("Turnout: %d of %d voted", m.Voted(), electorate)
		} else {
			out = out.Append("Tally: %d yes · %d no · %d abstain — %d of %d voted", m.Yes, m.No, m.Abstain, m.Yes+m.No+m.Abstain, electorate)
		}
		if !m.SettlesAt.IsZero() && m.SettlesAt.Before(m.ClosesAt) {
			out = out.Append("Everyone has voted: it closes at %s; a change until then counts.", timespec.Layout(m.SettlesAt, loc, "15:04:05"))
		}
	case store.MotionWithdrawn:
		out = out.Append("Withdrawn by the proposer.")
	case store.MotionSuspended:
		out = out.Append("**Voting is suspended** while an amendment to it is decided.")
	default:
		out = out.AppendText(resultWords(m, electorate))
	}
	out.Anchor = &msg.Anchor{Kind: anchorMotion, Ref: m.ID}
	return f.withFields(out, m, electorate), nil
}

// fields is the content of quorum.motion. A secret ballot shows its
// turnout, and its counts only once it closed with a result: never while it
// is open, nor once withdrawn.
func (f *Feature) fields(m *store.Motion, electorate int) map[string]any {
	fields := map[string]any{
		"id":         m.Number,
		"status":     m.Status,
		"voted":      m.Voted(),
		"electorate": electorate,
		"quorum":     m.QuorumCount,
		"threshold":  m.Threshold,
		"text":       m.Text,
		"kind":       m.Kind,
		"secret":     m.Secret,
	}
	if _, decided := verdicts[m.Status]; !m.Secret || decided {
		fields["yes"], fields["no"], fields["abstain"] = m.Yes, m.No, m.Abstain
	}
	if m.Secret {
		fields["ballot_code"] = m.BallotCode
	}
	if !m.ClosesAt.IsZero() {
		fields["closes_at"] = m.ClosesAt.UTC().Format(time.RFC3339)
	}
	if k, ok := f.kinds[m.Kind]; ok && k.inMotion != nil {
		for key, v := range k.inMotion(m) {
			fields[key] = v
		}
	}
	return fields
}

// withFields adds quorum.motion (and the kind's own fields).
func (f *Feature) withFields(out msg.Message, m *store.Motion, electorate int) msg.Message {
	out = out.With("quorum.motion", f.fields(m, electorate))
	if k, ok := f.kinds[m.Kind]; ok && k.fields != nil {
		for key, v := range k.fields(m) {
			out = out.With(key, v)
		}
	}
	return out
}

// keys are the first configured reaction of each choice, to show.
func (f *Feature) keys() (yes, no, abstain string) {
	c := f.Config.Motions
	first := func(l []string, def string) string {
		if len(l) == 0 {
			return def
		}
		return l[0]
	}
	return first(c.Yes, "👍"), first(c.No, "👎"), first(c.Abstain, "🤷")
}

// thresholdWords says what a threshold asks for, in a sentence.
func thresholdWords(th string) msg.Text {
	switch th {
	case "majority":
		return msg.T("a majority (more yes than no)")
	case "unanimous":
		return msg.T("unanimity (no votes against)")
	}
	return msg.T("at least %s of votes cast", th)
}

// thresholdName is a threshold's canonical spelling as a result shows it:
// majority and unanimous are words, 2/3 and 60% read the same everywhere.
func thresholdName(th string) msg.Text {
	switch th {
	case "majority":
		return msg.T("majority")
	case "unanimous":
		return msg.T("unanimous")
	}
	return literal(th)
}

// literal is text that reads the same in every language (a number, a
// name), where a msg.Text is expected.
func literal(s string) msg.Text { return msg.List("", s) }

// members is "1 member", "3 members".
func members(n int) msg.Text { return msg.N(n, "%d member", "%d members") }

// resultWords says how a motion ended, in plain words:
// "Carried 7–2, 1 abstention; 10 of 12 voted, quorum 6".
func resultWords(m *store.Motion, electorate int) msg.Text {
	return msg.T("%s %d–%d, %s; %d of %d voted, quorum %d", Verdict(m.Status), m.Yes, m.No,
		msg.N(m.Abstain, "%d abstention", "%d abstentions"), m.Voted(), electorate, m.QuorumCount)
}

// Verdict names a motion's outcome for people ("Carried"), in the reader's
// language when given to msg.F, in English as a string (%s).
func Verdict(status store.MotionStatus) msg.Text {
	if v, ok := verdicts[status]; ok {
		return v
	}
	return literal(string(status))
}

// verdicts head the result of a decided motion.
var verdicts = map[store.MotionStatus]msg.Text{
	store.MotionCarried:  msg.T("Carried"),
	store.MotionFailed:   msg.T("Failed"),
	store.MotionNoQuorum: msg.T("No quorum"),
}

// statusText is how each status reads in a sentence.
var statusText = map[store.MotionStatus]msg.Text{
	store.MotionAwaitingSecond: msg.T("awaiting a second"),
	store.MotionOpen:           msg.T("open"),
	store.MotionWithdrawn:      msg.T("withdrawn"),
	store.MotionCarried:        msg.T("carried"),
	store.MotionFailed:         msg.T("failed"),
	store.MotionNoQuorum:       msg.T("closed without quorum"),
}

// statusWords is how status reads in a sentence, in the reader's language
// when given to msg.F.
func statusWords(status store.MotionStatus) msg.Text { return statusText[status] }

// decodePayload reads a motion's feature data.
func decodePayload[T any](m *store.Motion) (T, error) {
	var p T
	if err := json.Unmarshal([]byte(m.Payload), &p); err != nil {
		return p, fmt.Errorf("motion %d payload: %w", m.ID, err)
	}
	return p, nil
}

// encodePayload is the JSON of a motion's feature data: plain strings and
// numbers, so it cannot fail.
func encodePayload(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Errorf("marshal motion payload: %w", err))
	}
	return string(data)
}
