package bot

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Late room keys. mautrix's crypto helper decrypts an event whose megolm
// key has not arrived yet in a goroutine that waits for the key (up to
// about 25 s) while the sync goes on and its token is saved. A stop or a
// crash during that wait would lose the event, a vote say, for good: the
// homeserver does not send it again. So the bot notes the event's ID and
// room (no content) before the token is saved, forgets it once the event
// was decrypted and handled or given up on, and on start fetches the
// events still noted and decrypts them again, after the first sync has
// brought the keys that came meanwhile.

// beforeDecrypt runs before the crypto helper's own handler (it is
// registered first).
func (b *Bot) beforeDecrypt(ctx context.Context, evt *event.Event) error {
	dropCleartextRelation(evt)
	return b.noteAwaitingKey(ctx, evt)
}

// beforeJoin says whether evt was sent before the bot joined its room, as
// fresh tells (but without its side effects): the bot never acts on such a
// message, so the crypto helper does not decrypt it. It would otherwise
// wait for the key of every one it lacks, the whole history a join brings
// (up to the timeline limit, 100 events), ask the sender's and the bot's
// own devices for it, and be refused (m.unauthorised: the session was
// made before the bot was in the room): four to-device messages per
// event. With some 30 bots joining one council that was most of the
// homeserver's to-device traffic, and Dendrite then delivered every room
// key tens of seconds late, later than the helper waits (bench/README.md,
// "Found").
func (b *Bot) beforeJoin(ctx context.Context, evt *event.Event) bool {
	joined, ok, err := b.st.Rooms().JoinedAt(ctx, evt.RoomID)
	if err != nil || !ok {
		return false // not known: decrypt, and let fresh decide
	}
	return b.eventTime(evt).Before(joined)
}

// noteAwaitingKey notes an encrypted event whose session is not in the
// crypto store yet: one the helper is about to wait for.
func (b *Bot) noteAwaitingKey(ctx context.Context, evt *event.Event) error {
	content, ok := evt.Content.Parsed.(*event.EncryptedEventContent)
	if !ok || content.SessionID == "" {
		return nil
	}
	// The session is there for nearly every event: look for it first.
	sess, err := b.crypto.Machine().CryptoStore.GetGroupSession(ctx, evt.RoomID, content.SessionID)
	if sess != nil || errors.Is(err, crypto.ErrGroupSessionWithheld) {
		return nil // decrypted now, or refused now: nothing to wait for
	} else if err != nil {
		return err
	}
	if fresh, err := b.fresh(ctx, evt); err != nil || !fresh {
		return err
	}
	b.awaiting.Store(evt.ID, true)
	b.logEvent(ctx, b.log.Info(), evt.RoomID, evt.ID).Msg("Waiting for the key of an encrypted message")
	return b.st.AwaitingKeys().Note(ctx, evt.RoomID, evt.ID, b.clock.Now())
}

// dispatchDecrypted hands a decrypted event to the handlers, as the crypto
// helper does by default, then forgets it if it was awaiting its key.
func (b *Bot) dispatchDecrypted(ctx context.Context, evt *event.Event) {
	b.syncer.Dispatch(ctx, evt)
	b.keyDone(ctx, evt.ID)
	b.forgetIndex(ctx, evt.RoomID, evt.ID)
}

// keyDone forgets an event that awaited its key. If that fails, the event
// is decrypted and handled again on start, which changes nothing twice.
func (b *Bot) keyDone(ctx context.Context, evt id.EventID) {
	if _, ok := b.awaiting.LoadAndDelete(evt); !ok {
		return
	}
	if err := b.st.AwaitingKeys().Done(ctx, evt); err != nil {
		b.log.Warn().Err(err).Msg("Could not forget a message that awaited its key; it is looked at again on start")
	}
}

// stopping says whether the bot is stopping. The crypto helper then gives
// up on the keys it was waiting for; the events stay noted.
func (b *Bot) stopping() bool {
	select {
	case <-b.stop:
		return true
	default:
		return false
	}
}

// awaitingKept is how long the bot keeps trying, start after start, to
// fetch a message that awaited its key when the homeserver fails to return
// it (a message it says is gone is given up at once).
const awaitingKept = 30 * 24 * time.Hour

// retryAwaitingKeys fetches the events still awaiting their key and
// decrypts them again: the key may have come while the bot was down. The
// helper waits for a key that is still missing, as for a synced event.
// Events whose handling failed for want of storage are also still noted;
// they are looked at again on the next start.
func (b *Bot) retryAwaitingKeys(ctx context.Context) {
	list, err := b.st.AwaitingKeys().List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error().Err(err).Msg("Could not list the messages awaiting their key; they are looked at again on the next start")
		}
		return
	}
	if len(list) > 0 {
		b.log.Info().Int("events", len(list)).Msg("Decrypting again the messages whose key had not come before the stop")
	}
	ctx = context.WithValue(ctx, mautrix.SyncTokenContextKey, "retry")
	var fetched []*event.Event
	for _, w := range list {
		b.awaiting.Store(w.Event, true)
		evt, err := b.cli.GetEvent(ctx, w.Room, w.Event)
		switch {
		case errors.Is(err, mautrix.MNotFound) || errors.Is(err, mautrix.MForbidden):
			b.logEvent(ctx, b.log.Warn().Err(err), w.Room, w.Event).Msg("A message that awaited its key is gone; giving up on it")
			b.keyDone(ctx, w.Event)
		case err != nil && b.clock.Now().Sub(w.NotedAt) > awaitingKept:
			b.logEvent(ctx, b.log.Warn().Err(err), w.Room, w.Event).Msg("Could not fetch a message that awaited its key for a month; giving up on it")
			b.keyDone(ctx, w.Event)
		case err != nil:
			b.logEvent(ctx, b.log.Warn().Err(err), w.Room, w.Event).Msg("Could not fetch a message that awaited its key; trying again on the next start")
			b.awaiting.Delete(w.Event)
		default:
			ParseFetched(w.Room, evt)
			content, ok := evt.Content.Parsed.(*event.EncryptedEventContent)
			if evt.Type != event.EventEncrypted || evt.Unsigned.RedactedBecause != nil || !ok || content.SessionID == "" {
				b.keyDone(ctx, w.Event) // deleted (redacted) meanwhile, or nothing to decrypt
				continue
			}
			evt.Mautrix.EventSource = event.SourceTimeline
			fetched = append(fetched, evt)
		}
	}
	// The store keeps only the day each was noted (store.AwaitingKeys):
	// decrypt them in the order they were sent.
	slices.SortStableFunc(fetched, func(a, b *event.Event) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	for _, evt := range fetched {
		dropCleartextRelation(evt)
		b.crypto.HandleEncrypted(ctx, evt)
	}
}
