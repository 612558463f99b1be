package bot

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// echoSearch bounds the look for a send in doubt: it reads the room's
// events, latest first, a page of echoSearchPage at a time, back to a
// little before the send (echoSkew) or for echoSearchPages pages.
// Dendrite filters /messages after taking a page, so a filter on the
// bot's events would look through the room's latest page only.
const (
	echoSearchPage  = 100
	echoSearchPages = 20
	echoSkew        = 5 * time.Minute // between the homeserver's clock and the bot's
)

// sentCipher is what a send put on the wire: its room and when, and if it
// was encrypted its megolm session and ciphertext. No two events share a
// ciphertext, so an event of the bot's own that carries it is the one that
// send made.
type sentCipher struct {
	room       id.RoomID
	at         time.Time // the wall clock: compared with the homeserver's
	session    id.SessionID
	ciphertext string
}

// attempt is a send of the outbox entry whose transaction ID is txnID,
// under way; sent is what its event's request put on the wire, if it got
// that far. Other sends made meanwhile (the explanation before a new
// direct room's first message) have their own transaction IDs and do not
// count.
type attempt struct {
	txnID string
	sent  *sentCipher
}

type attemptKey struct{}

func withAttempt(ctx context.Context, a *attempt) context.Context {
	return context.WithValue(ctx, attemptKey{}, a)
}

// noteAttempt records, for the attempt of ctx if it is that of txnID, what
// its request put on the wire.
func noteAttempt(ctx context.Context, txnID string, c sentCipher) {
	if a, ok := ctx.Value(attemptKey{}).(*attempt); ok && a.txnID == txnID {
		a.sent = &c
	}
}

// onOwnEcho completes the outbox entry an event of the bot's own came from,
// recognised by its transaction ID (the homeserver returns it to the session
// that sent the event). This closes the window between the homeserver
// accepting an event and the bot recording it: after a crash there, the
// entry is finished from the sync instead of being sent again.
func (b *Bot) onOwnEcho(ctx context.Context, evt *event.Event) error {
	if evt.Sender != b.cli.UserID || evt.Unsigned.TransactionID == "" {
		return nil
	}
	rest, ok := strings.CutPrefix(evt.Unsigned.TransactionID, "quorum."+b.st.ID+".")
	if !ok {
		return nil
	}
	outID, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		return nil
	}
	return b.complete(ctx, outID, evt.RoomID, evt.ID)
}

// madeEarlier looks for the event a send in doubt (entry outID) may have
// made among the room's events since a little before it. If there, it
// completes the entry and says so.
func (b *Bot) madeEarlier(ctx context.Context, outID int64, c sentCipher) (bool, error) {
	since := c.at.Add(-echoSkew).UnixMilli()
	from := ""
	for range echoSearchPages {
		resp, err := b.cli.Messages(ctx, c.room, from, "", mautrix.DirectionBackward, nil, echoSearchPage)
		if err != nil {
			return false, err
		}
		for _, evt := range resp.Chunk {
			if evt.Timestamp < since {
				return false, nil
			}
			var content event.EncryptedEventContent
			if evt.Sender != b.cli.UserID || evt.Type != event.EventEncrypted || json.Unmarshal(evt.Content.VeryRaw, &content) != nil {
				continue
			}
			if content.SessionID == c.session && string(content.MegolmCiphertext) == c.ciphertext {
				b.log.Info().Int64("outbox_id", outID).Msg("Found the event of a send in doubt in its room; not sending it again")
				return true, b.complete(ctx, outID, c.room, evt.ID)
			}
		}
		if resp.End == "" || len(resp.Chunk) == 0 {
			return false, nil
		}
		from = resp.End
	}
	return false, nil
}

// complete records that entry outID was sent as evt in room: what it
// anchors now stands for evt, and the entry is done.
func (b *Bot) complete(ctx context.Context, outID int64, room id.RoomID, evt id.EventID) error {
	o, found, err := b.st.Outbox().Get(ctx, outID)
	if err != nil || !found {
		return err
	}
	if o.Kind == commands.KindMessage {
		var m msg.Message
		if err := json.Unmarshal(o.Payload, &m); err == nil {
			if err := b.anchor(ctx, m, room, evt); err != nil {
				return err
			}
		}
	}
	if o.Kind == commands.KindEvent {
		var e msg.Event
		if err := json.Unmarshal(o.Payload, &e); err == nil && e.Anchor != nil {
			if err := b.st.Anchors().Put(ctx, evt, room, store.Anchor(*e.Anchor)); err != nil {
				return err
			}
		}
	}
	// Done first: the sender reads the entry again once its doubt is gone.
	if err := b.st.Outbox().Done(ctx, outID); err != nil {
		return err
	}
	b.doubts.Delete(outID)
	return nil
}
