package commands

import (
	"context"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/msg"
	"quorum/store"
)

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

// Event sends an event of another type than a message (a poll) in room.
func (e *Effects) Event(room id.RoomID, ev msg.Event) {
	e.out = append(e.out, store.Outgoing{Room: room, Kind: KindEvent, Payload: msg.Marshal(ev)})
}

// Redact removes an event from room.
func (e *Effects) Redact(room id.RoomID, r msg.Redaction) {
	e.out = append(e.out, store.Outgoing{Room: room, Kind: KindRedact, Payload: msg.Marshal(r)})
}

// Invite invites user into room, saying why in the invite.
func (e *Effects) Invite(room id.RoomID, user id.UserID, reason string) {
	e.out = append(e.out, store.Outgoing{Room: room, Kind: KindMembership, Payload: msg.Marshal(msg.Membership{User: user, Reason: reason})})
}

// Join makes the bot join room, which invited it; what is queued for room
// after it is sent once the bot is in.
func (e *Effects) Join(room id.RoomID) {
	e.out = append(e.out, store.Outgoing{Room: room, Kind: KindMembership, Payload: msg.Marshal(msg.Membership{})})
}

// Leave makes the bot leave room, after what was queued for it before.
func (e *Effects) Leave(room id.RoomID, reason string) {
	e.out = append(e.out, store.Outgoing{Room: room, Kind: KindMembership, Payload: msg.Marshal(msg.Membership{Leave: true, Reason: reason})})
}

// Outbox kinds, shared with the sender in package bot.
const (
	KindMessage = "message"
	KindFile    = "file"
	KindPower   = "power"
	KindRedact  = "redact"
	KindEvent   = "event"
	// KindMembership is an invite by the bot, or its own join.
	KindMembership = "membership"
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

// Then adds what other queued after what e has: consequences said after
// the result that caused them.
func (e *Effects) Then(other *Effects) { e.out = append(e.out, other.out...) }
