package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/random"
	"maunium.net/go/mautrix/id"

	"quorum/msg"
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

// Redaction removes an earlier event (a reaction, a !vote).
type Redaction struct {
	Room    id.RoomID
	Sender  id.UserID
	Event   id.EventID
	Redacts id.EventID
	Time    time.Time
}

// A feature is a group of commands with the rules behind them. Besides its
// commands it may react to reactions on its anchors, to redactions, to
// members leaving, and to the clock; see the optional interfaces below.
type feature interface {
	commands() []*Command
}

// reactor handles reactions on the messages anchored to it, by anchor kind.
type reactor interface {
	reactions() map[string]func(ctx context.Context, fx *Effects, ref int64, rx Reaction) error
}

// redactor handles a redaction if the redacted event is one of its own;
// it returns false otherwise.
type redactor interface {
	redaction(ctx context.Context, fx *Effects, rd Redaction) (bool, error)
}

// leaver is told when a member leaves a room.
type leaver interface {
	left(ctx context.Context, fx *Effects, room id.RoomID, user id.UserID, at time.Time) error
}

// scheduler runs what is due at now and returns when it next has something
// due (zero if nothing). It runs its own transactions, one per item, so one
// bad item cannot hold up the others.
type scheduler interface {
	due(ctx context.Context, now time.Time) (time.Time, error)
}

// Assembly dispatches events to the features.
type Assembly struct {
	env      *Env
	log      zerolog.Logger
	registry *Registry
	features []feature
}

// New builds the assembly's rules over env.
func New(env *Env, log zerolog.Logger) (*Assembly, error) {
	a := &Assembly{env: env, log: log}
	a.features = a.allFeatures()
	var cmds []*Command
	for _, f := range a.features {
		for _, c := range f.commands() {
			c.Group = groupOf(f)
			cmds = append(cmds, c)
		}
	}
	reg, err := NewRegistry(cmds...)
	if err != nil {
		return nil, err
	}
	a.registry = reg
	return a, nil
}

// allFeatures lists every feature. A new feature is a new file in this
// package and one line here.
func (a *Assembly) allFeatures() []feature {
	motions := &motions{Env: a.env, log: a.log, kinds: map[string]motionKind{}}
	return []feature{
		&helpFeature{a: a},
		motions,
		newDelegates(motions),
		&duties{Env: a.env, log: a.log},
		&studies{Env: a.env, log: a.log},
		&trust{Env: a.env},
	}
}

// groupOf names a feature for !help.
func groupOf(f feature) string {
	switch f.(type) {
	case *motions:
		return "Motions"
	case *delegates:
		return "Delegates"
	case *duties:
		return "Rotation and reminders"
	case *studies:
		return "Study sessions"
	case *trust:
		return "Record"
	}
	return ""
}

// Registry returns the command registry (for help and tests).
func (a *Assembly) Registry() *Registry { return a.registry }

// maxCommand bounds a command message. The longest legitimate one (a motion
// or a delegate's report with options) is a few thousand characters.
const maxCommand = 16000

// errAlreadyHandled aborts a transaction for an event seen before.
var errAlreadyHandled = errors.New("already handled")

// HandleMessage handles m if it is a command, exactly once. It returns false
// if m is not a command at all.
func (a *Assembly) HandleMessage(ctx context.Context, m Message) (bool, error) {
	prefix, name, args, ok := a.parse(m.Body)
	if !ok {
		return false, nil
	}
	if len(m.Body) > maxCommand {
		args, name = "", "toolong" // answered below, without running anything
	}
	cmd, found := a.registry.Lookup(name)
	r := &Request{Env: a.env, Room: m.Room, Sender: m.Sender, Event: m.Event, Time: m.Time,
		Command: cmd, Name: name, Args: args, Prefix: prefix, InDM: m.InDM}
	if found {
		r.Command, r.Target, r.Args = cmd.resolve(args)
	}
	err := a.once(ctx, m.Room, m.Event, func(ctx context.Context) error {
		if len(m.Body) > maxCommand {
			return Refusef("That message is too long for a command (%d characters; the limit is %d). Put long texts in a document and link it.", len(m.Body), maxCommand)
		}
		if !found {
			r.Reply(a.unknown(prefix, name))
			return r.flush(ctx, a.env.Store, a.env.Clock.Now())
		}
		if r.Command.Handler == nil {
			word, _ := cutWord(r.Args)
			return r.Unknown("", word)
		}
		if err := r.Command.Handler(ctx, r); err != nil {
			return err
		}
		return r.flush(ctx, a.env.Store, a.env.Clock.Now())
	})
	if err == nil {
		return true, nil
	}
	// The command failed and nothing it did was kept. Record the event as
	// handled all the same, with the explanation as its only effect.
	reply := &Request{Env: a.env, Room: m.Room, Sender: m.Sender, Event: m.Event, Prefix: prefix}
	if ue, ok := AsRefusal(err); ok {
		reply.Reply(ue.Message)
	} else {
		ref := random.String(8)
		a.log.Error().Err(err).Str("ref", ref).Str("command", name).Stringer("event_id", m.Event).Msg("Command failed")
		reply.Replyf("Sorry, something went wrong on my side and nothing was changed (ref %s). Please try again in a moment.", ref)
	}
	err = a.once(ctx, m.Room, m.Event, func(ctx context.Context) error {
		return reply.flush(ctx, a.env.Store, a.env.Clock.Now())
	})
	return true, err
}

// IsCommand says whether body is addressed to the bot.
func (a *Assembly) IsCommand(body string) bool {
	_, _, _, ok := a.parse(body)
	return ok
}

func (a *Assembly) parse(body string) (prefix, name, args string, ok bool) {
	for _, p := range a.env.Config.CommandPrefixes {
		if name, args, ok = Parse(body, []string{p}); ok {
			return p, name, args, true
		}
	}
	return "", "", "", false
}

func (a *Assembly) unknown(prefix, name string) msg.Message {
	if len(name) > 32 { // longer is no command name; never echo a flood back
		name = name[:32] + "…"
	}
	if near, ok := a.registry.Suggest(name); ok {
		return msg.F("I don't know `%s`. Did you mean `%s`? Send `%s` for the list.", prefix+name, prefix+near, prefix+"help")
	}
	return msg.F("I don't know `%s`. Send `%s` for the list of commands.", prefix+name, prefix+"help")
}

// once runs fn in a transaction that first marks evt handled; an event seen
// before is skipped silently.
func (a *Assembly) once(ctx context.Context, room id.RoomID, evt id.EventID, fn func(ctx context.Context) error) error {
	err := a.env.Store.Tx(ctx, func(ctx context.Context) error {
		fresh, err := a.env.Store.Handled().Mark(ctx, evt, room, a.env.Clock.Now())
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

// HandleReaction applies rx once, if it is on a message that means something.
func (a *Assembly) HandleReaction(ctx context.Context, rx Reaction) error {
	if rx.Sender == a.env.Bot {
		return nil
	}
	anchor, ok, err := a.env.Store.Anchors().Get(ctx, rx.Room, rx.Target)
	if err != nil || !ok {
		return err
	}
	for _, f := range a.features {
		r, isReactor := f.(reactor)
		if !isReactor {
			continue
		}
		if handle, ok := r.reactions()[anchor.Kind]; ok {
			return a.once(ctx, rx.Room, rx.Event, func(ctx context.Context) error {
				var fx Effects
				if err := handle(ctx, &fx, anchor.Ref, rx); err != nil {
					return fmt.Errorf("reaction on %s %d: %w", anchor.Kind, anchor.Ref, err)
				}
				return fx.flush(ctx, a.env.Store, a.env.Clock.Now())
			})
		}
	}
	return nil
}

// HandleRedaction applies rd once, if it removes something the bot counted.
func (a *Assembly) HandleRedaction(ctx context.Context, rd Redaction) error {
	return a.once(ctx, rd.Room, rd.Event, func(ctx context.Context) error {
		var fx Effects
		for _, f := range a.features {
			r, ok := f.(redactor)
			if !ok {
				continue
			}
			done, err := r.redaction(ctx, &fx, rd)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
		return fx.flush(ctx, a.env.Store, a.env.Clock.Now())
	})
}

// HandleLeave tells the features that user left room (membership event evt).
func (a *Assembly) HandleLeave(ctx context.Context, room id.RoomID, user id.UserID, evt id.EventID, at time.Time) error {
	return a.once(ctx, room, evt, func(ctx context.Context) error {
		var fx Effects
		for _, f := range a.features {
			if l, ok := f.(leaver); ok {
				if err := l.left(ctx, &fx, room, user, at); err != nil {
					return err
				}
			}
		}
		return fx.flush(ctx, a.env.Store, a.env.Clock.Now())
	})
}

// RunDue runs everything that is due and returns when something next falls
// due (zero if nothing is scheduled). Errors of one feature do not stop the
// others; they are logged and retried on the next run.
func (a *Assembly) RunDue(ctx context.Context) time.Time {
	var next time.Time
	for _, f := range a.features {
		s, ok := f.(scheduler)
		if !ok {
			continue
		}
		at, err := s.due(ctx, a.env.Clock.Now())
		if err != nil {
			a.log.Error().Err(err).Msgf("Scheduled work of %T failed; retrying in a minute", f)
			at = a.env.Clock.Now().Add(time.Minute)
		}
		next = Sooner(next, at)
	}
	return next
}
