package bot

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// echoSearch is how many of its own latest events in a room the bot looks
// through for a send in doubt. Entries for a room are sent in order, and
// one in doubt holds back the rest, so the event, if made, is among the
// bot's last few.
const echoSearch = 50

// sentCipher is what a send put on the wire: its room, and if it was
// encrypted its megolm session and ciphertext. No two events share a
// ciphertext, so an event of the bot's own that carries it is the one that
// send made.
type sentCipher struct {
	room       id.RoomID
	session    id.SessionID
	ciphertext string
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
// made among the bot's latest events in its room. If there, it completes
// the entry and says so.
func (b *Bot) madeEarlier(ctx context.Context, outID int64, c sentCipher) (bool, error) {
	filter := &mautrix.FilterPart{Types: []event.Type{event.EventEncrypted}, Senders: []id.UserID{b.cli.UserID}}
	resp, err := b.cli.Messages(ctx, c.room, "", "", mautrix.DirectionBackward, filter, echoSearch)
	if err != nil {
		return false, err
	}
	for _, evt := range resp.Chunk {
		var content event.EncryptedEventContent
		if evt.Sender != b.cli.UserID || json.Unmarshal(evt.Content.VeryRaw, &content) != nil {
			continue
		}
		if content.SessionID == c.session && string(content.MegolmCiphertext) == c.ciphertext {
			b.log.Info().Int64("outbox_id", outID).Msg("Found the event of a send in doubt in its room; not sending it again")
			return true, b.complete(ctx, outID, c.room, evt.ID)
		}
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
