package commands

import (
	"context"
	"quorum/msg"
	"time"

	"maunium.net/go/mautrix/id"
)

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
	return r.MemberLocation(ctx, r.Sender, r.Room)
}

// Cmd renders a command for a reply, with the prefix the sender uses.
func (r *Request) Cmd(s string) string { return r.Prefix + s }
