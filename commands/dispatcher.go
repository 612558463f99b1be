package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/random"
	"maunium.net/go/mautrix/id"

	"quorum/msg"
	"quorum/store"
)

// Message is an incoming text message that may be a command.
type Message struct {
	Room   id.RoomID
	Sender id.UserID
	Event  id.EventID
	Time   time.Time
	Body   string
	InDM   bool
}

// Reaction is an annotation (m.reaction) on an event, already normalised by
// the caller only in transport terms: Key is as sent.
type Reaction struct {
	Room   id.RoomID
	Sender id.UserID
	Event  id.EventID
	Target id.EventID
	Key    string
	Time   time.Time
}

// PollResponse is an answer to a poll the bot started (MSC3381
// org.matrix.msc3381.poll.response): Answers are the IDs of the selected
// answers, as sent (empty: none selected).
type PollResponse struct {
	Room    id.RoomID
	Sender  id.UserID
	Event   id.EventID
	Target  id.EventID
	Answers []string
	Time    time.Time
}

// Redaction removes an earlier event (a reaction, a !vote).
type Redaction struct {
	Room    id.RoomID
	Sender  id.UserID
	Event   id.EventID
	Redacts id.EventID
	Time    time.Time
}

// Notice is a machine-readable notice of another bot (a branch's bot
// announcing its branch in a council): its quorum.* fields, as sent. The
// bot passes on only notices that were encrypted by a session their
// sender's identity signed, like commands.
type Notice struct {
	Room   id.RoomID
	Sender id.UserID
	Event  id.EventID
	Time   time.Time
	Fields map[string]json.RawMessage
}

// NoticeReader reads other bots' notices; it returns false for a notice
// that is none of its business.
type NoticeReader interface {
	Notice(ctx context.Context, fx *Effects, n Notice) (bool, error)
}

// Invite is an invite of the bot into a room. Reason is what the inviter
// wrote in it.
type Invite struct {
	Room    id.RoomID
	Inviter id.UserID
	Reason  string
	Time    time.Time
}

// InviteAnswer is what the rules make of an invite.
type InviteAnswer int

// Answers to an invite.
const (
	// InviteUsual leaves the invite to the bot's configuration
	// (allowed_inviters).
	InviteUsual InviteAnswer = iota
	// InviteAccepted means the rules queued the join (Effects.Join) and
	// what follows it.
	InviteAccepted
	// InviteKept leaves the invite pending, neither accepted nor rejected.
	InviteKept
)

// InviteReader decides invites that its rules are about (a council's).
type InviteReader interface {
	Invited(ctx context.Context, fx *Effects, inv Invite) (InviteAnswer, error)
}

// A Feature is a group of commands with the rules behind them. Besides its
// commands it may react to reactions on its anchors, to redactions, to
// members leaving, and to the clock; see the optional interfaces below.
type Feature interface {
	// Group is the heading !help lists the feature's commands under.
	Group() string
	Commands() []*Command
}

// ReactionHandler handles a reaction on the message anchored to ref.
type ReactionHandler func(ctx context.Context, fx *Effects, ref int64, rx Reaction) error

// Reactor handles reactions on the messages anchored to it, by anchor kind.
type Reactor interface {
	Reactions() map[string]ReactionHandler
}

// PollResponseHandler handles an answer to the poll anchored to ref.
type PollResponseHandler func(ctx context.Context, fx *Effects, ref int64, pr PollResponse) error

// Poller handles answers to the polls anchored to it, by anchor kind.
type Poller interface {
	PollResponses() map[string]PollResponseHandler
}

// Redactor handles a redaction if the redacted event is one of its own;
// it returns false otherwise.
type Redactor interface {
	Redaction(ctx context.Context, fx *Effects, rd Redaction) (bool, error)
}

// Balloter sends a member again the ballot of an open secret motion, if
// the motion is of its kinds (see Dispatcher.SendAgain); it reports
// whether it was.
type Balloter interface {
	BallotAgain(ctx context.Context, fx *Effects, m *store.Motion, user id.UserID) (bool, error)
}

// Leaver is told when a member leaves a room.
type Leaver interface {
	Left(ctx context.Context, fx *Effects, room id.RoomID, user id.UserID, at time.Time) error
}

// Scheduler runs what is due at now and returns when it next has something
// due (zero if nothing). It runs its own transactions, one per item, so one
// bad item cannot hold up the others.
type Scheduler interface {
	Due(ctx context.Context, now time.Time) (time.Time, error)
}

// NoticeEditor is a feature whose notices show a live count (a tally,
// answers): it schedules their edits in the store's queue
// (store.Edits.Schedule) under its kinds, and makes each edit when it
// falls due.
type NoticeEditor interface {
	NoticeEdits() map[string]EditFunc
}

// EditFunc queues the edit of the notice about ref.
type EditFunc func(ctx context.Context, fx *Effects, ref int64) error

// Dispatcher dispatches events to the features.
type Dispatcher struct {
	env      *Env
	log      zerolog.Logger
	registry *Registry
	features []Feature
	// prunedAt is when handled events were last forgotten (in memory:
	// pruning again after a restart is harmless).
	prunedAt time.Time
}

// HandledKept is how long the dispatcher remembers which events it
// handled: the homeserver never redelivers events that old.
const HandledKept = 90 * 24 * time.Hour

// New builds the assembly of features over env; !help comes first.
func New(env *Env, log zerolog.Logger, features ...Feature) (*Dispatcher, error) {
	d := &Dispatcher{env: env, log: log}
	d.features = append([]Feature{&helpFeature{d: d}}, features...)
	var cmds []*Command
	for _, f := range d.features {
		for _, c := range f.Commands() {
			c.Group = f.Group()
			cmds = append(cmds, c)
		}
	}
	reg, err := NewRegistry(cmds...)
	if err != nil {
		return nil, err
	}
	d.registry = reg
	return d, nil
}

// Registry returns the command registry (for help and tests).
func (d *Dispatcher) Registry() *Registry { return d.registry }

// MaxCommand bounds a command message. The longest legitimate one (a motion
// or a delegate's report with options) is a few thousand characters.
const MaxCommand = 16000

// errAlreadyHandled aborts a transaction for an event seen before.
var errAlreadyHandled = errors.New("already handled")

// HandleMessage handles m if it is a command, exactly once. It returns false
// if m is not a command at all.
func (d *Dispatcher) HandleMessage(ctx context.Context, m Message) (bool, error) {
	prefix, name, args, ok := d.parse(m.Body)
	if !ok {
		return false, nil
	}
	if len(m.Body) > MaxCommand {
		args, name = "", "toolong" // answered below, without running anything
	}
	cmd, found := d.registry.Lookup(name)
	r := &Request{Env: d.env, Effects: Effects{from: m.Room}, Room: m.Room, Sender: m.Sender, Event: m.Event, Time: m.Time,
		Command: cmd, Name: name, Args: args, Prefix: prefix, InDM: m.InDM}
	if found {
		r.Command, r.Target, r.Args = cmd.resolve(args)
	}
	var err error
	if found && r.Command.Prepare != nil && len(m.Body) <= MaxCommand {
		err = r.Command.Prepare(ctx, r)
	}
	if err == nil {
		err = d.once(ctx, m.Room, m.Event, m.InDM, func(ctx context.Context) error {
			if len(m.Body) > MaxCommand {
				return Refusef("That message is too long for a command (%d characters; the limit is %d). Put long texts in a document and link it.", len(m.Body), MaxCommand)
			}
			if Unsafe(m.Body) {
				return Refusef("That message has invisible control characters (such as a text-direction override) that could make it read differently from what it says, so I didn't act on it. Please type it again.")
			}
			if !found {
				r.Reply(d.unknown(prefix, name))
				return r.flush(ctx, d.env)
			}
			if r.Command.Handler == nil {
				word, _ := cutWord(r.Args)
				return r.Unknown("", word)
			}
			if err := r.Command.Handler(ctx, r); err != nil {
				return err
			}
			return r.flush(ctx, d.env)
		})
	}
	if err == nil {
		return true, nil
	}
	// The command failed and nothing it did was kept. Record the event as
	// handled all the same, with the explanation as its only effect.
	reply := &Request{Env: d.env, Effects: Effects{from: m.Room}, Room: m.Room, Sender: m.Sender, Event: m.Event, Prefix: prefix}
	if ue, ok := AsRefusal(err); ok {
		reply.Reply(ue.Message)
		if ue.Redact != nil {
			redaction := *ue.Redact
			redaction.Event = m.Event
			reply.Redact(m.Room, redaction)
		}
	} else {
		ref := random.String(8)
		log := d.log.Error().Err(err).Str("ref", ref).Str("command", name)
		if !m.InDM { // a direct message's ID is not logged: it would say who wrote when
			log = log.Stringer("event_id", m.Event)
		}
		log.Msg("Command failed")
		reply.Replyf("Sorry, something went wrong on my side and nothing was changed (ref %s). Please try again in a moment.", ref)
	}
	err = d.once(ctx, m.Room, m.Event, m.InDM, func(ctx context.Context) error {
		return reply.flush(ctx, d.env)
	})
	return true, err
}

// IsCommand says whether body is addressed to the bot.
func (d *Dispatcher) IsCommand(body string) bool {
	_, _, _, ok := d.parse(body)
	return ok
}

func (d *Dispatcher) parse(body string) (prefix, name, args string, ok bool) {
	for _, p := range d.env.Config.CommandPrefixes {
		if name, args, ok = Parse(body, []string{p}); ok {
			return p, name, args, true
		}
		if name, args, ok = d.accented(body, p); ok {
			return p, name, args, true
		}
	}
	return "", "", "", false
}

// accented reads a command typed with accents or umlauts ("!moción",
// "!anträge"), which Parse refuses, as the alias written without them; a
// word that names no command is no command, as for Parse.
func (d *Dispatcher) accented(body, prefix string) (name, args string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(body), prefix)
	if !found || rest == "" || isSpace(rune(rest[0])) { // the name follows the prefix directly
		return "", "", false
	}
	word, args := cutWord(rest)
	name = unaccent(word)
	if _, known := d.registry.Lookup(name); name == strings.ToLower(word) || !isWord(name) || !known {
		return "", "", false
	}
	return strings.ToLower(name), args, true
}

func (d *Dispatcher) unknown(prefix, name string) msg.Message {
	if len(name) > 32 { // longer is no command name; never echo a flood back
		name = name[:32] + "…"
	}
	if near, ok := d.registry.Suggest(name); ok {
		return msg.F("I don't know `%s`. Did you mean `%s`? Send `%s` for the list.", prefix+name, prefix+near, prefix+"help")
	}
	return msg.F("I don't know `%s`. Send `%s` for the list of commands.", prefix+name, prefix+"help")
}

// once runs fn in a transaction that first marks evt handled; an event seen
// before is skipped silently. An event of a member's direct room (private)
// is marked without its ID or room (store.Handled.MarkPrivate).
func (d *Dispatcher) once(ctx context.Context, room id.RoomID, evt id.EventID, private bool, fn func(ctx context.Context) error) error {
	err := d.env.Store.Tx(ctx, func(ctx context.Context) error {
		mark := d.env.Store.Handled().Mark
		if private {
			mark = func(ctx context.Context, evt id.EventID, _ id.RoomID, now time.Time) (bool, error) {
				return d.env.Store.Handled().MarkPrivate(ctx, evt, now)
			}
		}
		fresh, err := mark(ctx, evt, room, d.env.Clock.Now())
		if err != nil {
			return err
		}
		if !fresh {
			return errAlreadyHandled
		}
		return fn(ctx)
	})
	if errors.Is(err, errAlreadyHandled) {
		return nil
	}
	return err
}

// HandleNotice passes another bot's notice to the features that read such
// notices, once.
func (d *Dispatcher) HandleNotice(ctx context.Context, n Notice) error {
	if n.Sender == d.env.Bot {
		return nil
	}
	for _, f := range d.features {
		r, ok := f.(NoticeReader)
		if !ok {
			continue
		}
		var used bool
		err := d.once(ctx, n.Room, n.Event, false, func(ctx context.Context) error {
			fx := Effects{from: n.Room}
			var err error
			if used, err = r.Notice(ctx, &fx, n); err != nil || !used {
				if err == nil {
					err = errNotMine
				}
				return err
			}
			return fx.flush(ctx, d.env)
		})
		if errors.Is(err, errNotMine) {
			continue
		}
		return err
	}
	return nil
}

// errNotMine rolls back a feature's look at a notice it does not read.
var errNotMine = errors.New("not this feature's notice")

// HandleInvite asks the features what to make of an invite of the bot.
func (d *Dispatcher) HandleInvite(ctx context.Context, inv Invite) (InviteAnswer, error) {
	for _, f := range d.features {
		r, ok := f.(InviteReader)
		if !ok {
			continue
		}
		var answer InviteAnswer
		err := d.env.InTx(ctx, func(ctx context.Context, fx *Effects) error {
			var err error
			answer, err = r.Invited(ctx, fx, inv)
			return err
		})
		if err != nil || answer != InviteUsual {
			return answer, err
		}
	}
	return InviteUsual, nil
}

// HandleReaction applies rx once, if it is on a message that means something.
func (d *Dispatcher) HandleReaction(ctx context.Context, rx Reaction) error {
	if rx.Sender == d.env.Bot {
		return nil
	}
	anchor, ok, err := d.env.Store.Anchors().Get(ctx, rx.Room, rx.Target)
	if err != nil || !ok {
		return err
	}
	for _, f := range d.features {
		r, isReactor := f.(Reactor)
		if !isReactor {
			continue
		}
		if handle, ok := r.Reactions()[anchor.Kind]; ok {
			return d.once(ctx, rx.Room, rx.Event, false, func(ctx context.Context) error {
				fx := Effects{from: rx.Room}
				if err := handle(ctx, &fx, anchor.Ref, rx); err != nil {
					return fmt.Errorf("reaction on %s %d: %w", anchor.Kind, anchor.Ref, err)
				}
				return fx.flush(ctx, d.env)
			})
		}
	}
	return nil
}

// HandlePollResponse applies pr once, if it answers a poll that means
// something.
func (d *Dispatcher) HandlePollResponse(ctx context.Context, pr PollResponse) error {
	if pr.Sender == d.env.Bot {
		return nil
	}
	anchor, ok, err := d.env.Store.Anchors().Get(ctx, pr.Room, pr.Target)
	if err != nil || !ok {
		return err
	}
	for _, f := range d.features {
		p, isPoller := f.(Poller)
		if !isPoller {
			continue
		}
		if handle, ok := p.PollResponses()[anchor.Kind]; ok {
			return d.once(ctx, pr.Room, pr.Event, false, func(ctx context.Context) error {
				fx := Effects{from: pr.Room}
				if err := handle(ctx, &fx, anchor.Ref, pr); err != nil {
					return fmt.Errorf("poll response on %s %d: %w", anchor.Kind, anchor.Ref, err)
				}
				return fx.flush(ctx, d.env)
			})
		}
	}
	return nil
}

// HandleRedaction applies rd once, if it removes something the bot counted.
func (d *Dispatcher) HandleRedaction(ctx context.Context, rd Redaction) error {
	return d.once(ctx, rd.Room, rd.Event, false, func(ctx context.Context) error {
		fx := Effects{from: rd.Room}
		for _, f := range d.features {
			r, ok := f.(Redactor)
			if !ok {
				continue
			}
			done, err := r.Redaction(ctx, &fx, rd)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
		return fx.flush(ctx, d.env)
	})
}

// HandleLeave tells the features that user left room (membership event evt).
func (d *Dispatcher) HandleLeave(ctx context.Context, room id.RoomID, user id.UserID, evt id.EventID, at time.Time) error {
	return d.once(ctx, room, evt, false, func(ctx context.Context) error {
		fx := Effects{from: room}
		for _, f := range d.features {
			if l, ok := f.(Leaver); ok {
				if err := l.Left(ctx, &fx, room, user, at); err != nil {
					return err
				}
			}
		}
		return fx.flush(ctx, d.env)
	})
}

// SendAgain is told that a device of user's could not read messages the
// bot sent them in their direct room, and that the bot no longer holds
// their key (it forgets what it has read): the features send again what
// the member still needs (the ballots of the open secret motions they have
// not voted on), after a word on why. If nothing is needed,
// nothing is sent. It reports how many messages it queued.
func (d *Dispatcher) SendAgain(ctx context.Context, user id.UserID) (queued int, err error) {
	err = d.env.Store.Tx(ctx, func(ctx context.Context) error {
		open, err := d.env.Store.Secret().Unvoted(ctx, user)
		if err != nil {
			return err
		}
		// One Effects a ballot: each in its room's language, for a member
		// who chose none.
		var ballots []*Effects
		for _, m := range open {
			fx := &Effects{from: m.Room}
			for _, f := range d.features {
				if b, ok := f.(Balloter); ok {
					if sent, err := b.BallotAgain(ctx, fx, m, user); err != nil {
						return err
					} else if sent {
						break
					}
				}
			}
			if len(fx.out) > 0 {
				ballots = append(ballots, fx)
			}
		}
		if len(ballots) == 0 {
			return nil
		}
		why := Effects{from: ballots[0].from}
		why.DM(user, msg.F("Your device asked me for the key of earlier messages here, which I no longer hold. In case it could not read your ballot, here it is again."))
		for _, fx := range append([]*Effects{&why}, ballots...) {
			queued += len(fx.out)
			if err := fx.flush(ctx, d.env); err != nil {
				return err
			}
		}
		return nil
	})
	return queued, err
}

// RunDue runs everything that is due and returns when something next falls
// due (zero if nothing is scheduled). Errors of one feature do not stop the
// others; they are logged and retried on the next run.
func (d *Dispatcher) RunDue(ctx context.Context) time.Time {
	var next time.Time
	for _, f := range d.features {
		s, ok := f.(Scheduler)
		if !ok {
			continue
		}
		at, err := s.Due(ctx, d.env.Clock.Now())
		if ctx.Err() != nil {
			return next // stopping: what is left runs after the next start
		}
		if err != nil {
			d.log.Error().Err(err).Msgf("Scheduled work of %T failed; retrying in a minute", f)
			at = d.env.Clock.Now().Add(time.Minute)
		}
		next = Sooner(next, at)
	}
	at, err := d.editNotices(ctx, d.env.Clock.Now())
	if ctx.Err() != nil {
		return next
	}
	if err != nil {
		d.log.Error().Err(err).Msg("Editing notices failed; retrying in a minute")
		at = d.env.Clock.Now().Add(time.Minute)
	}
	d.forget(ctx, d.env.Clock.Now())
	return Sooner(next, at)
}

// forget prunes the record of handled events at most once an hour, so that
// it stays small however long the bot runs. It schedules nothing: the bot
// runs due work at least once a minute anyway.
func (d *Dispatcher) forget(ctx context.Context, now time.Time) {
	if !d.prunedAt.IsZero() && now.Sub(d.prunedAt) < time.Hour {
		return
	}
	n, err := d.env.Store.Handled().Prune(ctx, now.Add(-HandledKept))
	if err != nil {
		d.log.Error().Err(err).Msg("Forgetting old handled events failed; retrying in an hour")
	} else if n > 0 {
		d.log.Info().Int64("events", n).Msg("Forgot handled events older than 90 days")
	}
	d.prunedAt = now
}

// editNotices makes the notice edits that are due, each in a transaction
// of its own, and returns when the next one is.
func (d *Dispatcher) editNotices(ctx context.Context, now time.Time) (time.Time, error) {
	editors := map[string]EditFunc{}
	for _, f := range d.features {
		if e, ok := f.(NoticeEditor); ok {
			maps.Copy(editors, e.NoticeEdits())
		}
	}
	due, err := d.env.Store.Edits().Due(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	err = EachInTx(ctx, d.env, due, func(ctx context.Context, fx *Effects, e store.Edit) error {
		if edit, ok := editors[e.Kind]; ok {
			if err := edit(ctx, fx, e.Ref); err != nil {
				return fmt.Errorf("edit %s %d: %w", e.Kind, e.Ref, err)
			}
		}
		return d.env.Store.Edits().Done(ctx, e.Kind, e.Ref, now)
	})
	if err != nil {
		return time.Time{}, err
	}
	return d.env.Store.Edits().Next(ctx)
}
