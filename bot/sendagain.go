package bot

import (
	"context"
	"errors"
	"time"

	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
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
// A member's device may ask for several sessions at once, and a hostile
// client could ask again and again, as could a device that never gets room
// keys: a member is sent things again at most once per sendAgainEvery, and
// at most sendAgainMost times in a run of the bot.
const (
	sendAgainEvery = 10 * time.Minute
	sendAgainMost  = 3
)

// sentAgain is when a member's device last asked as above, and how often
// they were sent something again.
type sentAgain struct {
	at    time.Time
	times int
}

// sendAgainOnKeyRequest wraps mautrix's decision on a key request: when it
// forwards a member a session as above, the member is sent again what they
// still need. The decision itself is mautrix's: the session must have been
// shared with the requesting device.
func (b *Bot) sendAgainOnKeyRequest(mach *crypto.OlmMachine) {
	allow := mach.AllowKeyShare
	mach.AllowKeyShare = func(ctx context.Context, device *id.Device, info event.RequestedKeyInfo) *crypto.KeyShareRejection {
		rejection := allow(ctx, device, info)
		if rejection == nil && device.UserID != b.cli.UserID {
			if err := b.sendAgain(ctx, mach, device.UserID, info); err != nil && ctx.Err() == nil {
				b.log.Error().Err(err).Msg("Could not send a member again what their device could not read")
			}
		}
		return rejection
	}
}

// sendAgain queues for user what they still need, if info names a session
// of the bot's in their direct room that it no longer holds from its first
// message. mautrix handles each key request on its own goroutine: the
// member's lock makes a burst of them count once.
func (b *Bot) sendAgain(ctx context.Context, mach *crypto.OlmMachine, user id.UserID, info event.RequestedKeyInfo) error {
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
	prev, _ := last.(sentAgain)
	if prev.times >= sendAgainMost || (!prev.at.IsZero() && now.Sub(prev.at) < sendAgainEvery) {
		return nil
	}
	if err := mach.CryptoStore.RemoveOutboundGroupSession(ctx, info.RoomID); err != nil {
		return err
	}
	queued, err := b.asm.SendAgain(ctx, user)
	if err != nil {
		return err
	}
	if queued > 0 {
		prev.times++
	}
	b.sentAgain.Store(user, sentAgain{at: now, times: prev.times})
	// Whom for is not logged: a member's open ballots are their own affair.
	b.log.Info().Int("queued", queued).Msg("A member's device asked for the key of messages in their direct room that the bot no longer holds; queued again what they still need")
	b.wake()
	return nil
}
