package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands/timespec"
	"quorum/config"
	"quorum/msg"
	"quorum/record"
	"quorum/store"
)

// Clock tells the time. Tests use a clock they control; the bot uses the
// system clock.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Rooms is what the rules may know of a room's membership and powers. The bot
// answers from the state it syncs; tests answer from a table.
type Rooms interface {
	// Members lists the joined members.
	Members(ctx context.Context, room id.RoomID) ([]id.UserID, error)
	// PowerLevel returns user's power level and the level needed to change
	// room state (state_default), which Quorum treats as "moderator".
	PowerLevel(ctx context.Context, room id.RoomID, user id.UserID) (level, moderator int, err error)
}

// Env is everything the rules work with.
type Env struct {
	Store  *store.Store
	Config *config.Config
	Clock  Clock
	Rooms  Rooms
	// Bot is the bot's own user ID; it never votes and is never in an
	// electorate.
	Bot id.UserID
	// Key signs the minutes (nil: no signing).
	Key *record.Key
}

// Cmd renders a command with the room's first configured prefix, for
// messages that answer no command (notices, DMs, scheduled work).
func (e *Env) Cmd(s string) string { return e.Config.CommandPrefixes[0] + s }

// Refusal is a mistake by the person who sent a command. Its text is
// replied as it is, and nothing the command did is kept.
type Refusal struct{ Message msg.Message }

func (e *Refusal) Error() string { return e.Message.Body }

// Refusef makes a Refusal with msg.F's formatting.
func Refusef(format string, args ...any) error {
	return &Refusal{Message: msg.F(format, args...)}
}

// AsRefusal finds the refusal in err: a Refusal, or a parser's error
// written for the member (timespec.Error), which handlers return as it is.
func AsRefusal(err error) (*Refusal, bool) {
	var refusal *Refusal
	if errors.As(err, &refusal) {
		return refusal, true
	}
	var parse *timespec.Error
	if errors.As(err, &parse) {
		return &Refusal{Message: msg.F("%s", parse.Error())}, true
	}
	return nil, false
}

// Effects collects what a handler wants to say or do. They are written to the
// outbox in the handler's transaction, and only if the handler succeeds.
type Effects struct {
	out []store.Outgoing
}

// Say posts m in room.
func (e *Effects) Say(room id.RoomID, m msg.Message) {
	e.out = append(e.out, store.Outgoing{Room: room, Kind: KindMessage, Payload: msg.Marshal(m)})
}

// DM sends m to user in their encrypted direct room with the bot.
func (e *Effects) DM(user id.UserID, m msg.Message) {
	e.out = append(e.out, store.Outgoing{DMUser: user, Kind: KindMessage, Payload: msg.Marshal(m)})
}

// File posts an encrypted attachment in room.
func (e *Effects) File(room id.RoomID, f msg.File) {
	e.out = append(e.out, store.Outgoing{Room: room, Kind: KindFile, Payload: msg.Marshal(f)})
}

// Power sets a member's power level in room.
func (e *Effects) Power(room id.RoomID, p msg.PowerLevel) {
	e.out = append(e.out, store.Outgoing{Room: room, Kind: KindPower, Payload: msg.Marshal(p)})
}

// Redact removes an event from room.
func (e *Effects) Redact(room id.RoomID, r msg.Redaction) {
	e.out = append(e.out, store.Outgoing{Room: room, Kind: KindRedact, Payload: msg.Marshal(r)})
}

// Outbox kinds, shared with the sender in package bot.
const (
	KindMessage = "message"
	KindFile    = "file"
	KindPower   = "power"
	KindRedact  = "redact"
)

func (e *Effects) flush(ctx context.Context, st *store.Store, now time.Time) error {
	for _, o := range e.out {
		if _, err := st.Outbox().Add(ctx, o, now); err != nil {
			return err
		}
	}
	e.out = nil
	return nil
}

// Queued returns what is waiting to be flushed (for tests of the rules).
func (e *Effects) Queued() []store.Outgoing { return e.out }

// Request is one command being handled.
type Request struct {
	*Env
	Effects
	Room    id.RoomID
	Sender  id.UserID
	Event   id.EventID
	Time    time.Time // the event's origin_server_ts
	Command *Command
	Name    string // as typed (may be an alias), lower case
	Args    string
	// Prefix is the command prefix the sender used, echoed in replies.
	Prefix string
	// InDM is true when the command came from the sender's direct room with
	// the bot (secret ballots are cast there).
	InDM bool
}

// Reply answers the command with m, as a rich reply mentioning the sender.
func (r *Request) Reply(m msg.Message) {
	m.ReplyTo = r.Event
	r.Say(r.Room, m.Mention(r.Sender))
}

// Replyf is Reply(msg.F(format, args...)).
func (r *Request) Replyf(format string, args ...any) {
	r.Reply(msg.F(format, args...))
}

// Location is the timezone of the request's room.
func (r *Request) Location() *time.Location { return r.Config.Location(r.Room) }

// UserLocation is the sender's own zone (!tz) if set, else the room's.
func (r *Request) UserLocation(ctx context.Context) *time.Location {
	return userLocation(ctx, r.Env, r.Sender, r.Room)
}

func userLocation(ctx context.Context, env *Env, user id.UserID, room id.RoomID) *time.Location {
	if tz, err := env.Store.Users().Timezone(ctx, user); err == nil && tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc
		}
	}
	return env.Config.Location(room)
}

// Cmd renders a command for a reply, with the prefix the sender uses.
func (r *Request) Cmd(s string) string { return r.Prefix + s }

// isModerator says whether user may act for the room (power level at least
// the room's state_default).
func isModerator(ctx context.Context, env *Env, room id.RoomID, user id.UserID) (bool, error) {
	level, moderator, err := env.Rooms.PowerLevel(ctx, room, user)
	if err != nil {
		return false, fmt.Errorf("read power levels: %w", err)
	}
	return level >= moderator, nil
}
