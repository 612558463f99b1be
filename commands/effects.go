package commands

import (
	"context"

	"maunium.net/go/mautrix/id"

	"quorum/msg"
	"quorum/store"
)

// Effects collects what a handler wants to say or do. They are written to the
// outbox in the handler's transaction, and only if the handler succeeds.
type Effects struct {
	out []outgoing
	// from is the room whose event caused these effects: a member's direct
	// messages are in its language unless they chose their own.
	from id.RoomID
}

// outgoing is an outbox entry; a message is rendered in its reader's
// language when it is flushed.
type outgoing struct {
	store.Outgoing
	message *msg.Message
	ifLost  *msg.Message // an unkept message's fallback (DMUnkept)
}

// Say posts m in room.
func (e *Effects) Say(room id.RoomID, m msg.Message) {
	e.out = append(e.out, outgoing{Outgoing: store.Outgoing{Room: room, Kind: KindMessage}, message: &m})
}

// DM sends m to user in their encrypted direct room with the bot.
func (e *Effects) DM(user id.UserID, m msg.Message) {
	e.out = append(e.out, outgoing{Outgoing: store.Outgoing{DMUser: user, Kind: KindMessage}, message: &m})
}

// DMUnkept sends m to user's direct room without it ever being written
// down readably: no copy of the files, even with the seal key, opens it
// (store.Outgoing.Fallback). If the bot stops before sending it, ifLost
// goes instead. A secret ballot's receipt is sent so: its code next to its
// member would tie them to their vote.
func (e *Effects) DMUnkept(user id.UserID, m, ifLost msg.Message) {
	e.out = append(e.out, outgoing{Outgoing: store.Outgoing{DMUser: user, Kind: KindMessage}, message: &m, ifLost: &ifLost})
}

// SayUnkept is DMUnkept for a room (a direct room the command came from).
func (e *Effects) SayUnkept(room id.RoomID, m, ifLost msg.Message) {
	e.out = append(e.out, outgoing{Outgoing: store.Outgoing{Room: room, Kind: KindMessage}, message: &m, ifLost: &ifLost})
}

// From names the room whose event caused what follows (see Effects.from):
// scheduled work that writes to members alone calls it for each item.
func (e *Effects) From(room id.RoomID) { e.from = room }

// File posts an encrypted attachment in room.
func (e *Effects) File(room id.RoomID, f msg.File) {
	e.out = append(e.out, outgoing{Outgoing: store.Outgoing{Room: room, Kind: KindFile, Payload: msg.Marshal(f)}})
}

// Power sets a member's power level in room.
func (e *Effects) Power(room id.RoomID, p msg.PowerLevel) {
	e.out = append(e.out, outgoing{Outgoing: store.Outgoing{Room: room, Kind: KindPower, Payload: msg.Marshal(p)}})
}

// Event sends an event of another type than a message (a poll) in room.
func (e *Effects) Event(room id.RoomID, ev msg.Event) {
	e.out = append(e.out, outgoing{Outgoing: store.Outgoing{Room: room, Kind: KindEvent, Payload: msg.Marshal(ev)}})
}

// Redact removes an event from room.
func (e *Effects) Redact(room id.RoomID, r msg.Redaction) {
	e.out = append(e.out, outgoing{Outgoing: store.Outgoing{Room: room, Kind: KindRedact, Payload: msg.Marshal(r)}})
}

// Invite invites user into room, saying why in the invite; ifRefused is
// said in the room instead if the bot lacks the power to (nothing if
// empty). A member already in the room is not invited again.
func (e *Effects) Invite(room id.RoomID, user id.UserID, reason, ifRefused string) {
	e.membership(room, msg.Membership{User: user, Reason: reason, IfRefused: ifRefused})
}

// Kick removes user from room, saying why; ifRefused is said in the room
// instead if the bot lacks the power to. Someone no longer in the room is
// left alone.
func (e *Effects) Kick(room id.RoomID, user id.UserID, reason, ifRefused string) {
	e.membership(room, msg.Membership{User: user, Kick: true, Reason: reason, IfRefused: ifRefused})
}

func (e *Effects) membership(room id.RoomID, m msg.Membership) {
	e.out = append(e.out, outgoing{Outgoing: store.Outgoing{Room: room, Kind: KindMembership, Payload: msg.Marshal(m)}})
}

// Join makes the bot join room, which invited it; what is queued for room
// after it is sent once the bot is in.
func (e *Effects) Join(room id.RoomID) {
	e.membership(room, msg.Membership{})
}

// Leave makes the bot leave room, after what was queued for it before.
func (e *Effects) Leave(room id.RoomID, reason string) {
	e.membership(room, msg.Membership{Leave: true, Reason: reason})
}

// Outbox kinds, shared with the sender in package bot.
const (
	KindMessage = "message"
	KindFile    = "file"
	KindPower   = "power"
	KindRedact  = "redact"
	KindEvent   = "event"
	// KindMembership is an invite or a kick by the bot, or its own join
	// or leave.
	KindMembership = "membership"
)

// flush writes the effects to the outbox, each message in its reader's
// language.
func (e *Effects) flush(ctx context.Context, env *Env) error {
	now := env.Clock.Now()
	for _, o := range e.out {
		if o.message != nil {
			lang, err := env.langOf(ctx, o.Outgoing, e.from)
			if err != nil {
				return err
			}
			o.Payload = msg.Marshal(o.message.Localize(lang))
			if o.ifLost != nil {
				o.Fallback = msg.Marshal(o.ifLost.Localize(lang))
			}
		}
		if _, err := env.Store.Outbox().Add(ctx, o.Outgoing, now); err != nil {
			return err
		}
	}
	e.out = nil
	return nil
}

// Queued returns what is waiting to be flushed, messages in English (for
// tests of the rules).
func (e *Effects) Queued() []store.Outgoing {
	var out []store.Outgoing
	for _, o := range e.out {
		if o.message != nil {
			o.Payload = msg.Marshal(*o.message)
		}
		out = append(out, o.Outgoing)
	}
	return out
}

// Then adds what other queued after what e has: consequences said after
// the result that caused them.
func (e *Effects) Then(other *Effects) { e.out = append(e.out, other.out...) }
