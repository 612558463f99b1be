package bot

import (
	"context"
	"errors"
	"time"

	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
)

// Messages a member's device could not read. The bot ratchets its copy of
// its own megolm session past each message it sent once it has read it
// back (forget.go), so it cannot give a member's device the key of its
// earlier messages in their direct room: mautrix forwards the session from
// where the bot's copy starts. When a device never got a ballot's room key
// (one device of 1,000 in a benchmark run, bench/README.md), the key
// request its client then makes was answered from the message after the
// ballot, and the ballot stayed unreadable. So when a member's device asks
// for the key of a session in their direct room that the bot can no longer
// give whole, the bot ends that room's session (what comes next goes with a
// new room key, sent to the member's devices again) and sends the member
// their open secret ballots they have not cast (Dispatcher.SendAgain).
//
// A device also asks when a room key is only late: mautrix's client asks
// after a few seconds without it and does not take the request back when
// the key comes. In a 1,000-member run 234 devices asked so, and read their
// ballot meanwhile. So the bot waits sendAgainAfter after a request before
// sending anything, and sends only the ballots the member still has not
// cast then: one who could read theirs has voted by then, most likely.
//
// A member's device may ask for several sessions at once, and a hostile
// client could ask again and again, as could a device that never gets room
// keys: a member is sent things again at most once per sendAgainEvery, and
// at most sendAgainMost times in a run of the bot.
const (
	sendAgainAfter = 10 * time.Minute
	sendAgainEvery = 10 * time.Minute
	sendAgainMost  = 3
)

// sentAgain is, for a member, when the bot last sent them things again and
// how often, and when it is to send them again next (zero: not asked).
type sentAgain struct {
	at    time.Time
	times int
	due   time.Time
}

// sendAgainOnKeyRequest wraps mautrix's decision on a key request: when it
// forwards a member a session as above, the member is sent again what they
// still need, later (sendAgainDue). The decision itself is mautrix's: the
// session must have been shared with the requesting device.
func (b *Bot) sendAgainOnKeyRequest(mach *crypto.OlmMachine) {
	allow := mach.AllowKeyShare
	mach.AllowKeyShare = func(ctx context.Context, device *id.Device, info event.RequestedKeyInfo) *crypto.KeyShareRejection {
		rejection := allow(ctx, device, info)
		if rejection == nil && device.UserID != b.cli.UserID {
			if err := b.askedAgain(ctx, mach, device.UserID, info); err != nil && ctx.Err() == nil {
				b.log.Error().Err(err).Msg("Could not note a key request for what the bot no longer holds")
			}
		}
		return rejection
	}
}

// askedAgain schedules user to be sent what they still need, if info names
// a session of the bot's in their direct room that it no longer holds from
// its first message. mautrix handles each key request on its own
// goroutine: the member's lock makes a burst of them count once.
func (b *Bot) askedAgain(ctx context.Context, mach *crypto.OlmMachine, user id.UserID, info event.RequestedKeyInfo) error {
	if member, direct, err := b.st.DMs().User(ctx, info.RoomID); err != nil || !direct || member != user {
		return err
	}
	// mautrix checked that the session was shared with the device, not
	// that it is of this room: one of another room, named as of this
	// one, is not found here.
	sess, err := mach.CryptoStore.GetGroupSession(ctx, info.RoomID, info.SessionID)
	if err != nil && !errors.Is(err, crypto.ErrGroupSessionWithheld) {
		return err
	}
	if sess == nil || sess.SenderKey != mach.OwnIdentity().IdentityKey || sess.Internal.FirstKnownIndex() == 0 {
		return nil
	}
	defer b.lockDM(user)()
	now := b.clock.Now()
	last, _ := b.sentAgain.Load(user)
	s, _ := last.(sentAgain)
	if !s.due.IsZero() || s.times >= sendAgainMost || (!s.at.IsZero() && now.Sub(s.at) < sendAgainEvery) {
		return nil
	}
	s.due = now.Add(sendAgainAfter)
	b.sentAgain.Store(user, s)
	b.log.Info().Msg("A member's device asked for the key of messages in their direct room that the bot no longer holds; what they still need goes again later")
	b.wake()
	return nil
}

// sendAgainDue sends what is due of what askedAgain scheduled, and returns
// when the next is due (zero if none).
func (b *Bot) sendAgainDue(ctx context.Context) time.Time {
	var next time.Time
	b.sentAgain.Range(func(k, v any) bool {
		user, s := k.(id.UserID), v.(sentAgain)
		if s.due.IsZero() {
			return true
		}
		if s.due.After(b.clock.Now()) {
			next = commands.Sooner(next, s.due)
			return true
		}
		if err := b.sendAgain(ctx, user); err != nil && ctx.Err() == nil {
			b.log.Error().Err(err).Msg("Could not send a member again what their device could not read")
		}
		return true
	})
	return next
}

// sendAgain queues what user still needs and, if anything, ends their
// direct room's session: it goes with a new room key.
func (b *Bot) sendAgain(ctx context.Context, user id.UserID) error {
	defer b.lockDM(user)()
	last, _ := b.sentAgain.Load(user)
	s, _ := last.(sentAgain)
	s.due = time.Time{}
	defer func() { b.sentAgain.Store(user, s) }()
	room, ok, err := b.st.DMs().Room(ctx, user)
	if err != nil || !ok {
		return err
	}
	queued, err := b.asm.SendAgain(ctx, user)
	if err != nil || queued == 0 {
		return err
	}
	s.at, s.times = b.clock.Now(), s.times+1
	// After queuing, before sending (the sender takes the member's lock
	// too): a new session only when something goes out in it.
	if err := b.crypto.Machine().CryptoStore.RemoveOutboundGroupSession(ctx, room); err != nil {
		return err
	}
	// Whom for is not logged: a member's open ballots are their own affair.
	b.log.Info().Int("queued", queued).Msg("Queued again what a member's device could not read")
	b.signalSender()
	return nil
}
