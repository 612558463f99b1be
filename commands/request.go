package commands

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/msg"
)

// Request is one command being handled.
type Request struct {
	*Env
	Effects
	Room   id.RoomID
	Sender id.UserID
	Event  id.EventID
	Time   time.Time // the event's origin_server_ts
	// Command is what runs: the command typed, or its subcommand or action.
	Command *Command
	Name    string // the command as typed (may be an alias), lower case
	// Target is the word that names what an action acts on: the roster of
	// `roster minutes add @dan`, the session of `study 3 move …`.
	Target string
	// Args are the words after the command, subcommand or action.
	Args string
	// Prefix is the command prefix the sender used, echoed in replies.
	Prefix string
	// Prepared is what the command's Prepare made for its handler.
	Prepared any
	// InDM is true when the command came from the sender's direct room with
	// the bot (secret ballots are cast there).
	InDM bool
}

// Reply answers the command with m, as a rich reply mentioning the sender.
func (r *Request) Reply(m msg.Message) {
	m.ReplyTo = r.Event
	r.Say(r.Room, m.Mention(r.Sender))
}

// Unknown refuses word, which names none of the command's subcommands
// (or, after a target, its actions): it suggests the nearest and lists
// them all. An empty word asks for one.
func (r *Request) Unknown(target, word string) error {
	list, base := r.Command.Subcommands, r.Command.Name
	if target != "" {
		list, base = r.Command.Actions, base+" "+target
	}
	var try []any
	for _, c := range list {
		try = append(try, msg.T("`%s`", r.Cmd(base+" "+c.Usage)))
	}
	tries := msg.List(", ", try...)
	switch near, ok := nearest(word, names(list)); {
	case word == "":
		return Refusef("Try %s.", tries)
	case ok:
		return Refusef("I don't know `%s`. Did you mean `%s`? Try %s.", r.Cmd(base+" "+shortWord(word)), r.Cmd(base+" "+near), tries)
	}
	return Refusef("I don't know `%s`. Try %s.", r.Cmd(base+" "+shortWord(word)), tries)
}

// shortWord keeps an unknown word short enough to echo: never a flood back.
func shortWord(w string) string {
	if len(w) > 32 {
		return w[:32] + "…"
	}
	return w
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

// Lang is the language of the request's room (for a direct chat, the
// member's), for text rendered before it is sent (a poll's question, a
// motion's generated wording).
func (r *Request) Lang(ctx context.Context) (string, error) { return r.Env.Lang(ctx, r.Room) }
