// Package elections runs contested elections: several members stand for
// the seats of a role, members rank them, and the ranked ballots are
// counted by the single transferable vote (package stv, Scottish STV; with
// one seat, instant-runoff). The elected take office as delegates elected
// by !delegate do (package motions' Delegates.TakeOffice).
//
// An election goes through nominations (members nominate, nominees accept),
// voting (members rank the candidates in the room: an open ballot), and
// ends decided or cancelled. A secret election is ranked in the members'
// direct chats instead. It is a motion of kind store.KindContested
// with statuses of its own, so that it shares the room's numbering with
// motions and the mandates it gives point at it.
//
// Decisions, beyond the text:
//   - Self-nomination is acceptance: `!nominate N @me` puts you on the
//     ballot at once. Anyone else nominated must `!accept N`.
//   - Fewer accepted candidates than seats when nominations end: the
//     nominations stay open another day (the room is told), and a moderator's
//     `!ballot N` is refused until there are enough. Nobody is elected
//     unopposed without a vote of the room; with exactly as many candidates
//     as seats the vote still takes place (and the count elects them all).
//   - The ballot order is drawn when voting opens: candidates sorted by
//     the SHA-256 of the record's chain head at that moment, a newline, the
//     election's number, a newline and their user ID (stv.LotDigest with
//     n = the number). It is put in the record.
//   - The standing orders of an election apply: its voting time at the
//     least (election_voting_time; a --closes that would leave less, counted
//     from when voting opens, is raised to it),
//     and the room's quorum, counted as members who ranked. Without quorum
//     the election is cancelled and nobody is elected. Like motions, the
//     election closes early once everyone in the electorate has ranked,
//     after the settle time (motions.settle; a ranking changed within it
//     counts); a secret one at once.
//   - The lots of the count are drawn from the record's chain head at the
//     close (the hash of the newest entry before the result's), or the room
//     ID if the record is empty.
//   - --secret: the ballot goes to each member by DM with a code, and is
//     ranked there once, for good, with a receipt (secret.go). A mistyped
//     --secret is refused with the command corrected, never opened as an
//     open ballot.
package elections

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/motions"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
	"quorum/stv"
)

const (
	defaultNominations = 24 * time.Hour
	defaultVoting      = 48 * time.Hour
	maxSeats           = 50
	maxCandidates      = 100
	maxMandate         = 2000
	maxSecretPerDay    = 3
	// receiptPad is the length every receipt is padded to once encrypted,
	// as for secret motions: the homeserver sees the length of each
	// ciphertext.
	receiptPad = 2048
)

// Feature is contested elections.
type Feature struct {
	*commands.Env
	log       zerolog.Logger
	motions   *motions.Feature
	delegates *motions.Delegates
}

// New makes the feature over the motions and delegates it borrows from.
func New(m *motions.Feature, d *motions.Delegates, log zerolog.Logger) *Feature {
	return &Feature{Env: m.Env, log: log, motions: m, delegates: d}
}

// Group implements commands.Feature.
func (f *Feature) Group() string { return "Contested elections" }

// Commands implements commands.Feature.
func (f *Feature) Commands() []*commands.Command {
	return []*commands.Command{
		{
			Name:    "election",
			Usage:   "election <role> [--seats N] [--term 90d] [--nominations WHEN] [--closes WHEN] [--secret] : <mandate>",
			Summary: "open nominations for the seats of a role, to be filled by ranked ballot (STV) (or `election N` to show one)",
			Help: "Members nominate with `nominate N @user` (themselves too); a nominee accepts with `accept N`. " +
				"Nominations end at `--nominations` (default 24h) or when a moderator sends `ballot N`. Members then rank the candidates " +
				"with `rank N @c @a @b` or by ballot numbers, `rank N 3 1 2`. The count is Scottish STV with the Droop quota; with one seat it is instant-runoff. " +
				"The elected take office with the mandate for the term, as elected delegates do. " +
				"`--secret`: members rank privately, in a direct chat with me, with the ballot's code and a receipt.",
			Examples: []string{
				"election negotiator --seats 3 --term 60d : Negotiate the new rota. No pay cuts.",
				"election treasurer --nominations 2d --closes 5d : Keep the strike fund's books",
				"election 4",
			},
			Handler: f.election,
		},
		{
			Name:     "nominate",
			Usage:    "nominate N @user",
			Summary:  "nominate a member (or yourself) in election N",
			Examples: []string{"nominate 4 @ana:example.org"},
			Handler:  f.nominate,
		},
		{
			Name:     "accept",
			Usage:    "accept N",
			Summary:  "accept your nomination in election N",
			Examples: []string{"accept 4"},
			Handler:  f.accept,
		},
		{
			Name:     "ballot",
			Usage:    "ballot N",
			Summary:  "end the nominations of election N and open the vote (moderators)",
			Examples: []string{"ballot 4"},
			Handler:  f.ballot,
		},
		{
			Name:    "rank",
			Usage:   "rank N <candidates in order of preference>",
			Summary: "rank the candidates of election N (your latest ranking counts; `rank N` alone withdraws it)",
			Help: "Name candidates by their Matrix IDs or by their numbers on the ballot. You may rank as few as you like: " +
				"a ballot whose ranked candidates are all elected or excluded counts no further.",
			Examples: []string{"rank 4 @chi:example.org @ana:example.org", "rank 4 3 1 2", "rank 4"},
			Handler:  f.rank,
		},
	}
}

// payload is an election's data in its motion's payload.
type payload struct {
	Role        string `json:"role"`
	Seats       int    `json:"seats"`
	TermMinutes int64  `json:"term_minutes"`
	Mandate     string `json:"mandate"`
	// The voting time asked for: a length from the opening of the vote, or
	// a moment (ms).
	VotingMS   int64 `json:"voting_ms,omitempty"`
	ClosesAtMS int64 `json:"closes_at_ms,omitempty"`
	// Order is the ballot, drawn when voting opens.
	Order  []id.UserID `json:"order,omitempty"`
	Result *result     `json:"result,omitempty"`
	Why    string      `json:"why,omitempty"` // why it was cancelled
	Ranked int         `json:"ranked,omitempty"`
}

// result is the count, as quorum.election shows it.
type result struct {
	Method  string      `json:"method"`
	Quota   json.Number `json:"quota"`
	Elected []id.UserID `json:"elected"`
	Rounds  []round     `json:"rounds"`
	Valid   int         `json:"valid"`
	Seed    string      `json:"seed"`
	Digest  string      `json:"ballots_sha256"`
}

type round struct {
	Counts   map[id.UserID]json.Number `json:"counts"`
	Elected  []id.UserID               `json:"elected"`
	Excluded []id.UserID               `json:"excluded"`
	// What the stage transferred, for the result's text (kept in the
	// payload, left out of quorum.election, whose rounds are as the issue
	// lists them).
	Action          string                    `json:"action,omitempty"`
	From            id.UserID                 `json:"from,omitempty"`
	Transfers       map[id.UserID]json.Number `json:"transfers,omitempty"`
	NonTransferable json.Number               `json:"non_transferable,omitempty"`
	Fractions       json.Number               `json:"fractions,omitempty"`
	// Ties are the ties broken, in English, as counts made before ties
	// were kept as data (TieList) recorded them.
	Ties    []string `json:"ties,omitempty"`
	TieList []tie    `json:"tie_list,omitempty"`
}

// tie is a tie broken in a stage (stv.Tie, with the candidates).
type tie struct {
	About  string      `json:"about"` // as stv.Tie.About
	Tied   []id.UserID `json:"tied"`
	Chosen id.UserID   `json:"chosen"`
	Stage  int         `json:"stage,omitempty"`
	Lot    int         `json:"lot,omitempty"`
}

// public is r as quorum.election shows it.
func (r round) public() map[string]any {
	return map[string]any{"counts": r.Counts, "elected": r.Elected, "excluded": r.Excluded}
}

// StatusText is how an election's status reads, in the reader's language
// (quorum.election and the record keep the status itself).
func StatusText(s store.MotionStatus) msg.Text {
	switch s {
	case store.ElectionNominations:
		return msg.T("nominations")
	case store.ElectionVoting:
		return msg.T("voting")
	case store.ElectionDecided:
		return msg.T("decided")
	case store.ElectionCancelled:
		return msg.T("cancelled")
	}
	return msg.T("%s", s)
}

func decode(m *store.Motion) (payload, error) {
	var p payload
	if err := json.Unmarshal([]byte(m.Payload), &p); err != nil {
		return p, fmt.Errorf("election %d payload: %w", m.ID, err)
	}
	return p, nil
}

func encode(p payload) string {
	data, err := json.Marshal(p)
	if err != nil {
		panic(fmt.Errorf("marshal election payload: %w", err))
	}
	return string(data)
}

// find returns contested election #n of the request's room.
func (f *Feature) find(ctx context.Context, r *commands.Request, word string) (*store.Motion, payload, error) {
	n, ok := commands.ParseNumber(strings.TrimPrefix(word, "#"))
	if !ok {
		return nil, payload{}, commands.Refusef("Say which election by its number, for example `%s`.", r.Cmd(r.Command.Name+" 4"))
	}
	m, found, err := r.Store.Motions().ByNumber(ctx, r.Room, n)
	if err != nil {
		return nil, payload{}, err
	}
	if !found || m.Kind != store.KindContested {
		return nil, payload{}, commands.Refusef("There is no contested election #%d in this room.", n)
	}
	p, err := decode(m)
	return m, p, err
}

func (f *Feature) election(ctx context.Context, r *commands.Request) error {
	if _, ok := commands.ParseNumber(strings.TrimSpace(r.Args)); ok {
		m, p, err := f.find(ctx, r, strings.TrimSpace(r.Args))
		if err != nil {
			return err
		}
		notice, err := f.notice(ctx, m, p)
		r.Reply(notice)
		return err
	}
	example := "election treasurer --seats 1 : Keep the strike fund's books" // a command: not for members to read translated
	head, mandate, found := commands.SplitColon(r.Args)
	mandate = strings.TrimSpace(mandate)
	words := strings.Fields(head)
	if !found || mandate == "" || len(words) == 0 {
		return commands.Refusef("Say the role, then the mandate after a colon. For example: `%s`", r.Cmd(example))
	}
	if len(mandate) > maxMandate {
		return commands.Refusef("A mandate of more than %d characters is too long for a notice.", maxMandate)
	}
	now, loc := r.Clock.Now(), r.Location()
	p := payload{Seats: 1, Mandate: mandate}
	term, err := motions.TermDuration(r.Config.Delegates.Term)
	if err != nil {
		return err
	}
	nominations := defaultNominations
	var role string
	secret := false
	for i := 0; i < len(words); i++ {
		// A mistyped --secret must never open an open ballot.
		if commands.NearMiss(words[i], "secret") {
			fixed := strings.Replace(r.Args, words[i], "--secret", 1)
			return commands.Refusef("Did you mean `--secret`? Nothing was opened. If so, send `%s`.", r.Cmd("election "+fixed))
		}
		name, value, hasValue, isOption := commands.Option(words[i])
		if !isOption {
			if role != "" {
				return commands.Refusef("A role is one word; say the mandate after a colon. For example: `%s`", r.Cmd(example))
			}
			var ok bool
			if role, ok = motions.ParseRole(words[i]); !ok {
				return commands.Refusef("A role is one word, such as `treasurer` or `negotiator`.")
			}
			continue
		}
		if name == "secret" {
			secret = true
			continue
		}
		if !hasValue {
			// The value runs to the next option.
			j := i + 1
			for j < len(words) {
				if _, _, _, opt := commands.Option(words[j]); opt {
					break
				}
				j++
			}
			value = strings.Join(words[i+1:j], " ")
			i = j - 1
		}
		if value == "" {
			return commands.Refusef("`--%s` needs a value. For example: `%s`", name, r.Cmd(example))
		}
		switch name {
		case "seats":
			n, ok := commands.ParseNumber(value)
			if !ok || n < 1 || n > maxSeats {
				return commands.Refusef("`--seats` is a number of seats from 1 to %d.", maxSeats)
			}
			p.Seats = n
		case "term":
			if term, err = motions.TermDuration(value); err != nil {
				return err
			}
		case "nominations":
			at, d, err := when(value, now, loc)
			if err != nil {
				return err
			}
			if d == 0 {
				d = at.Sub(now)
			}
			if d < time.Minute {
				return commands.Refusef("Nominations must stay open for a while; `--nominations` is in the past.")
			}
			nominations = d
		case "closes":
			at, d, err := when(value, now, loc)
			if err != nil {
				return err
			}
			if d > 0 {
				p.VotingMS = d.Milliseconds()
			} else {
				p.ClosesAtMS = at.UnixMilli()
			}
		default:
			return commands.Refusef("I don't know `--%s` here. Try `%s`.", name, r.Cmd(f.Commands()[0].Usage))
		}
	}
	if role == "" {
		return commands.Refusef("Say which role. For example: `%s`", r.Cmd(example))
	}
	if p.ClosesAtMS > 0 && !time.UnixMilli(p.ClosesAtMS).After(now.Add(nominations)) {
		return commands.Refusef("The vote can't close before the nominations end (%s).", timespec.Human(now.Add(nominations), loc))
	}
	p.Role, p.TermMinutes = role, int64(term/time.Minute)
	if secret {
		// Every member gets a DM: one member must not make the bot flood
		// everyone (the limit is the secret motions').
		if opened, err := r.Store.Motions().SecretSince(ctx, r.Room, r.Sender, now.Add(-commands.DMLimitWindow)); err != nil {
			return err
		} else if opened >= maxSecretPerDay {
			return commands.Refusef("You have opened %d secret ballots here in the last day, the most I send for one member; ask a moderator or wait until tomorrow.", opened)
		}
	}
	// The election's wording is stored: it is written in the room's language.
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	m := &store.Motion{Room: r.Room, Kind: store.KindContested, Payload: encode(p), Proposer: r.Sender, Secret: secret,
		Text:      msg.T("%s as %s", msg.N(p.Seats, "%d seat", "%d seats"), role).In(lang),
		Threshold: "stv", Quorum: "-", Status: store.ElectionNominations, CreatedAt: now, ClosesAt: now.Add(nominations)}
	if err := r.Store.Motions().Create(ctx, m); err != nil {
		return err
	}
	notice, err := f.notice(ctx, m, p)
	r.Reply(notice)
	return err
}

// when reads a deadline: a length (48h) or a moment (friday 18:00).
func when(s string, now time.Time, loc *time.Location) (time.Time, time.Duration, error) {
	if d, err := timespec.Duration(s); err == nil {
		return time.Time{}, d, nil
	}
	t, err := timespec.Moment(s, now, loc)
	return t, 0, err
}

func (f *Feature) nominate(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	if len(words) != 2 {
		return commands.Refusef("Say the election's number and who: `%s`.", r.Cmd("nominate 4 @ana:example.org")) // a command: not for members to read translated
	}
	m, p, err := f.find(ctx, r, words[0])
	if err != nil {
		return err
	}
	if m.Status != store.ElectionNominations {
		return commands.Refusef("Nominations for election #%d are closed.", m.Number)
	}
	user, err := r.ResolveMember(ctx, r.Room, words[1])
	if err != nil {
		return err
	}
	st := r.Store.Elections()
	if cs, err := st.Candidates(ctx, m.ID); err != nil {
		return err
	} else if len(cs) >= maxCandidates {
		return commands.Refusef("Election #%d has %d nominations, the most I take.", m.Number, maxCandidates)
	}
	now := r.Clock.Now()
	nomination, added, err := st.Nominate(ctx, m.ID, user, r.Sender, now)
	if err != nil {
		return err
	}
	if !added {
		return commands.Refusef("%s is already nominated in election #%d.", user, m.Number)
	}
	if user == r.Sender {
		if _, err := st.Accept(ctx, m.ID, user, now); err != nil {
			return err
		}
		r.Reply(msg.F("%s stands as %s in election #%d.", msg.Pill(user), p.Role, m.Number).With("quorum.election", f.fieldOf(ctx, m, p)))
		return nil
	}
	out := msg.F("%s, %s nominates you as %s in election #%d. Accept with `%s` or ✅ on this message to be on the ballot.",
		msg.Pill(user), msg.Pill(r.Sender), p.Role, m.Number, r.Cmd(fmt.Sprintf("accept %d", m.Number))).
		Mention(user).With("quorum.election", f.fieldOf(ctx, m, p))
	out.Anchor = &msg.Anchor{Kind: anchorNomination, Ref: nomination}
	r.Say(r.Room, out)
	return nil
}

// anchorElection is the anchor kind of an election's ballot notice, which
// is edited to show the turnout and, at the end, the result.
const anchorElection = "election"

// editInterval is the least time between two edits of a ballot notice.
const editInterval = 3 * time.Second

// NoticeEdits implements commands.NoticeEditor.
func (f *Feature) NoticeEdits() map[string]commands.EditFunc {
	return map[string]commands.EditFunc{anchorElection: f.editNotice}
}

// editNotice edits the ballot notice of election id to its present state.
func (f *Feature) editNotice(ctx context.Context, fx *commands.Effects, id int64) error {
	m, ok, err := f.Store.Motions().Get(ctx, id)
	if err != nil || !ok || m.Kind != store.KindContested {
		return err
	}
	p, err := decode(m)
	if err != nil {
		return err
	}
	e, err := f.notice(ctx, m, p)
	e.Edit = &msg.Anchor{Kind: anchorElection, Ref: m.ID}
	fx.Say(m.Room, e)
	return err
}

// anchorNomination is the anchor kind of a nomination's request: ✅ on it
// from the nominee accepts.
const anchorNomination = "nomination"

var acceptKeys = []string{"✅", "✔", "☑"}

// Reactions implements commands.Reactor.
func (f *Feature) Reactions() map[string]commands.ReactionHandler {
	return map[string]commands.ReactionHandler{anchorNomination: f.acceptReaction}
}

// acceptReaction accepts a nomination with ✅ from the nominee; other
// reactions, and anyone else's, mean nothing.
func (f *Feature) acceptReaction(ctx context.Context, fx *commands.Effects, ref int64, rx commands.Reaction) error {
	if !slices.Contains(acceptKeys, commands.NormalizeKey(rx.Key)) {
		return nil
	}
	motionID, user, ok, err := f.Store.Elections().Nomination(ctx, ref)
	if err != nil || !ok || user != rx.Sender {
		return err
	}
	m, ok, err := f.Store.Motions().Get(ctx, motionID)
	if err != nil || !ok || m.Status != store.ElectionNominations || m.Room != rx.Room {
		return err
	}
	p, err := decode(m)
	if err != nil {
		return err
	}
	accepted, err := f.Store.Elections().Accept(ctx, m.ID, user, rx.Time)
	if err != nil || !accepted {
		return err
	}
	fx.Say(m.Room, msg.F("%s accepts and stands as %s in election #%d.", msg.Pill(user), p.Role, m.Number).
		With("quorum.election", f.fieldOf(ctx, m, p)))
	return nil
}

func (f *Feature) accept(ctx context.Context, r *commands.Request) error {
	m, p, err := f.find(ctx, r, strings.TrimSpace(r.Args))
	if err != nil {
		return err
	}
	if m.Status != store.ElectionNominations {
		return commands.Refusef("Nominations for election #%d are closed.", m.Number)
	}
	ok, err := r.Store.Elections().Accept(ctx, m.ID, r.Sender, r.Clock.Now())
	if err != nil {
		return err
	}
	if !ok {
		return commands.Refusef("You are not nominated in election #%d, or you already accepted.", m.Number)
	}
	r.Reply(msg.F("%s accepts and stands as %s in election #%d.", msg.Pill(r.Sender), p.Role, m.Number).
		With("quorum.election", f.fieldOf(ctx, m, p)))
	return nil
}

func (f *Feature) ballot(ctx context.Context, r *commands.Request) error {
	m, p, err := f.find(ctx, r, strings.TrimSpace(r.Args))
	if err != nil {
		return err
	}
	if m.Status != store.ElectionNominations {
		return commands.Refusef("Election #%d is no longer taking nominations.", m.Number)
	}
	if mod, err := r.IsModerator(ctx, r.Room, r.Sender); err != nil {
		return err
	} else if !mod {
		return commands.Refusef("Only a room moderator can end the nominations early; they end %s.", timespec.Human(m.ClosesAt, r.Location()))
	}
	accepted, err := f.accepted(ctx, m)
	if err != nil {
		return err
	}
	if len(accepted) < p.Seats {
		return commands.Refusef("Election #%d has %s for %s: nominations stay open until there are enough.",
			m.Number, msg.N(len(accepted), "%d candidate", "%d candidates"), msg.N(p.Seats, "%d seat", "%d seats"))
	}
	return f.openVote(ctx, &r.Effects, m, p, accepted, r.Clock.Now())
}

// accepted lists the candidates who accepted, in nomination order.
func (f *Feature) accepted(ctx context.Context, m *store.Motion) ([]id.UserID, error) {
	cs, err := f.Store.Elections().Candidates(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	var out []id.UserID
	for _, c := range cs {
		if !c.AcceptedAt.IsZero() {
			out = append(out, c.User)
		}
	}
	return out, nil
}

// seedNow is the record's chain head of room now, or the room's ID when
// the record is empty.
func (f *Feature) seedNow(ctx context.Context, room id.RoomID) (string, error) {
	head, err := f.Store.Records().Head(ctx, room)
	if err != nil {
		return "", err
	}
	if head == nil {
		return string(room), nil
	}
	return head.Hash, nil
}

// openVote draws the ballot order, fixes the electorate and the deadline,
// and posts the ballot.
func (f *Feature) openVote(ctx context.Context, fx *commands.Effects, m *store.Motion, p payload, candidates []id.UserID, now time.Time) error {
	seed, err := f.seedNow(ctx, m.Room)
	if err != nil {
		return err
	}
	p.Order = BallotOrder(seed, m.Number, candidates)
	electorate, err := f.motions.Electorate(ctx, m.Room)
	if err != nil {
		return err
	}
	least, quorum, err := f.motions.ElectionOrders(ctx, m.Room)
	if err != nil {
		return err
	}
	closes := now.Add(max(least, defaultVoting))
	switch {
	case p.VotingMS > 0:
		closes = now.Add(max(least, time.Duration(p.VotingMS)*time.Millisecond))
	case p.ClosesAtMS > 0:
		closes = commands.Latest(time.UnixMilli(p.ClosesAtMS), now.Add(least))
	}
	m.Status, m.OpenedAt, m.ClosesAt, m.QuorumCount, m.Payload = store.ElectionVoting, now, closes, quorum.Of(len(electorate)), encode(p)
	if err := f.Store.Elections().SetPhase(ctx, m); err != nil {
		return err
	}
	if err := f.Store.Elections().SetElectorate(ctx, m.ID, electorate); err != nil {
		return err
	}
	if m.Secret {
		if m.BallotCode, err = f.Store.Secret().OpenRanked(ctx, m.ID, len(p.Order)); err != nil {
			return err
		}
		f.sendBallots(fx, m, p, electorate)
	}
	notice, err := f.notice(ctx, m, p)
	if err != nil {
		return err
	}
	notice.Anchor = &msg.Anchor{Kind: anchorElection, Ref: m.ID}
	notice, err = f.RecordChange(ctx, m.Room, "election.ballot", map[string]any{
		"id": m.Number, "role": p.Role, "seats": p.Seats, "candidates": p.Order, "order_seed": seed,
		"closes_at": closes.UTC().Format(time.RFC3339), "electorate": len(electorate), "quorum": m.QuorumCount,
	}, notice)
	if err != nil {
		return err
	}
	fx.Say(m.Room, notice)
	return nil
}

// BallotOrder sorts candidates by stv.LotDigest(seed, number, candidate):
// the order anyone can recompute from the record.
func BallotOrder(seed string, number int, candidates []id.UserID) []id.UserID {
	out := slices.Clone(candidates)
	slices.SortFunc(out, func(a, b id.UserID) int {
		return strings.Compare(stv.LotDigest(seed, number, string(a)), stv.LotDigest(seed, number, string(b)))
	})
	return out
}

func (f *Feature) rank(ctx context.Context, r *commands.Request) error {
	words := strings.Fields(r.Args)
	if len(words) == 0 {
		return commands.Refusef("Say the election's number, then the candidates in your order: `%s`.", r.Cmd("rank 4 @chi:example.org @ana:example.org")) // a command: not for members to read translated
	}
	if r.InDM {
		return f.rankSecret(ctx, r, words)
	}
	m, p, err := f.find(ctx, r, words[0])
	if err != nil {
		return err
	}
	if m.Secret {
		return commands.Refusef("Election #%d is a secret ballot: rank in your direct chat with me, with the ballot I sent you there.", m.Number)
	}
	// Lateness is judged by when the ranking was sent (it may be handled
	// after a restart), as for votes on motions.
	now := r.Clock.Now()
	if m.Status != store.ElectionVoting || r.Time.After(m.ClosesAt) {
		return commands.Refusef("Election #%d is not open for ranking (it is %s).", m.Number, StatusText(m.Status))
	}
	if ok, err := r.Store.Motions().InElectorate(ctx, m.ID, r.Sender); err != nil {
		return err
	} else if !ok {
		return commands.Refusef("Only the members of the room when the vote on election #%d opened can rank.", m.Number)
	}
	ranking, err := parseRanking(p.Order, words[1:])
	if err != nil {
		return err
	}
	had, err := r.Store.Elections().Rank(ctx, m.ID, r.Sender, ranking, r.Time)
	if err != nil {
		return err
	}
	switch {
	case len(ranking) == 0 && !had:
		return commands.Refusef("You had not ranked in election #%d.", m.Number)
	case len(ranking) == 0:
		r.Reply(msg.F("Your ranking in election #%d is withdrawn.", m.Number).With("quorum.election", f.fieldOf(ctx, m, p)))
	default:
		names := make([]string, len(ranking))
		for i, u := range ranking {
			names[i] = fmt.Sprintf("%d. %s", i+1, u)
		}
		r.Reply(msg.F("Your ranking in election #%d: %s. Your latest ranking counts; `%s` alone withdraws it.",
			m.Number, strings.Join(names, ", "), r.Cmd(fmt.Sprintf("rank %d", m.Number))).With("quorum.election", f.fieldOf(ctx, m, p)))
	}
	if err := r.Store.Edits().Schedule(ctx, anchorElection, m.ID, now, editInterval); err != nil {
		return err
	}
	rankings, err := r.Store.Elections().Rankings(ctx, m.ID)
	if err != nil {
		return err
	}
	electorate, err := r.Store.Motions().ElectorateSize(ctx, m.ID)
	if err != nil {
		return err
	}
	return f.settle(ctx, &r.Effects, m, p, len(rankings) >= electorate, now)
}

// settle closes m early once its whole electorate has ranked, after the
// motions' settle time (motions.settle), so that a ranking changed within
// it counts; a withdrawal meanwhile stops the countdown. A secret election,
// whose rankings cannot change, closes at once.
func (f *Feature) settle(ctx context.Context, fx *commands.Effects, m *store.Motion, p payload, complete bool, now time.Time) error {
	wait := f.motions.SettleTime()
	switch {
	case complete && (wait == 0 || m.Secret):
		return f.decide(ctx, fx, m, p, now, "everyone has ranked") // for the log: not for members
	case complete && m.SettlesAt.IsZero():
		m.SettlesAt = now.Add(wait)
		return f.Store.Motions().Settle(ctx, m.ID, m.SettlesAt)
	case !complete && !m.SettlesAt.IsZero():
		m.SettlesAt = time.Time{}
		return f.Store.Motions().Settle(ctx, m.ID, m.SettlesAt)
	}
	return nil
}

// parseRanking reads candidates named by user ID (or @localpart) or by
// ballot number.
func parseRanking(order []id.UserID, words []string) ([]id.UserID, error) {
	var out []id.UserID
	for _, w := range words {
		w = strings.TrimRight(w, ",;.")
		var c id.UserID
		if n, ok := commands.ParseNumber(w); ok {
			if n < 1 || n > len(order) {
				return nil, commands.Refusef("The ballot has candidates 1 to %d; there is no %d.", len(order), n)
			}
			c = order[n-1]
		} else {
			for _, u := range order {
				local, _, _ := u.Parse()
				if string(u) == w || "@"+local == w {
					if c != "" {
						return nil, commands.Refusef("%s names more than one candidate; write their full Matrix ID.", w)
					}
					c = u
				}
			}
			if c == "" {
				return nil, commands.Refusef("%s is not a candidate on this ballot.", commands.Shorten(w, 64))
			}
		}
		if slices.Contains(out, c) {
			return nil, commands.Refusef("You ranked %s twice; rank each candidate once.", c)
		}
		out = append(out, c)
	}
	return out, nil
}

// Due implements commands.Scheduler: nominations that end and votes that
// close.
func (f *Feature) Due(ctx context.Context, now time.Time) (time.Time, error) {
	due, err := f.Store.Elections().Due(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	err = commands.EachInTx(ctx, f.Env, due, func(ctx context.Context, fx *commands.Effects, m *store.Motion) error {
		fresh, ok, err := f.Store.Motions().Get(ctx, m.ID)
		if err != nil || !ok {
			return err
		}
		p, err := decode(fresh)
		if err != nil {
			return err
		}
		switch fresh.Status {
		case store.ElectionNominations:
			return f.nominationsEnd(ctx, fx, fresh, p, now)
		case store.ElectionVoting:
			why := "deadline"
			if now.Before(fresh.ClosesAt) {
				why = "everyone has ranked" // for the log: not for members
			}
			return f.decide(ctx, fx, fresh, p, now, why)
		}
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	return f.Store.Elections().NextDue(ctx)
}

// nominationsEnd opens the vote, or keeps nominations open another day
// when there are fewer candidates than seats.
func (f *Feature) nominationsEnd(ctx context.Context, fx *commands.Effects, m *store.Motion, p payload, now time.Time) error {
	accepted, err := f.accepted(ctx, m)
	if err != nil {
		return err
	}
	if len(accepted) >= p.Seats {
		return f.openVote(ctx, fx, m, p, accepted, now)
	}
	m.ClosesAt = now.Add(defaultNominations)
	if err := f.Store.Elections().SetPhase(ctx, m); err != nil {
		return err
	}
	fx.Say(m.Room, msg.F("Election #%d (%s) has %s for %s, so nominations stay open until %s. Nominate with `%s`.",
		m.Number, p.Role, msg.N(len(accepted), "%d candidate", "%d candidates"), msg.N(p.Seats, "%d seat", "%d seats"),
		timespec.Human(m.ClosesAt, f.Config.Location(m.Room)), f.Cmd(fmt.Sprintf("nominate %d @user", m.Number))). // a command: not for members to read translated
		With("quorum.election", f.fieldOf(ctx, m, p)))
	return nil
}

// Left implements commands.Leaver: a member who leaves the room while
// nominations are open is no longer nominated (the room is told). Once
// voting has opened the ballot stays as it was drawn; if elected, they take
// office as a delegate who left does (the delegates' rules say the rest).
func (f *Feature) Left(ctx context.Context, fx *commands.Effects, room id.RoomID, user id.UserID, _ time.Time) error {
	list, err := f.Store.Elections().NominatedIn(ctx, room, user)
	if err != nil {
		return err
	}
	for _, m := range list {
		p, err := decode(m)
		if err != nil {
			return err
		}
		if err := f.Store.Elections().Unnominate(ctx, m.ID, user); err != nil {
			return err
		}
		fx.Say(room, msg.F("%s left the room, so their nomination in election #%d (%s) is withdrawn.", msg.Pill(user), m.Number, p.Role).
			With("quorum.election", f.fieldOf(ctx, m, p)))
	}
	return nil
}
