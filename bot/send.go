package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// maxAttempts bounds retries of an entry the homeserver keeps refusing
// (a room the bot was removed from); transient failures retry forever.
const maxAttempts = 5

// errNotEncrypted refuses to send in the clear.
var errNotEncrypted = errors.New("room is not encrypted; refusing to send in the clear")

// sendLoop delivers the outbox, oldest first. An entry that fails holds back
// the later entries of its room (order matters: a result after its motion)
// but not those of other rooms.
func (b *Bot) sendLoop(ctx context.Context) {
	// An entry left from before a stop may have reached the homeserver
	// without the bot hearing back (a crash, or a send cut off at shutdown;
	// the homeserver then has no record of the transaction ID either). Its
	// echo in the first sync completes it (onOwnEcho): wait for that sync
	// before sending anything, or it would be posted twice.
	select {
	case <-ctx.Done():
		return
	case <-b.ready:
	}
	backoff := time.Second
	for {
		failed := b.sendPending(ctx)
		wait := time.Minute
		if failed {
			wait = backoff
			backoff = min(backoff*2, time.Minute)
		} else {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-b.wakeSender:
		case <-time.After(wait):
		}
	}
}

// sendPending sends what is queued and reports whether anything failed.
func (b *Bot) sendPending(ctx context.Context) bool {
	blocked := map[string]bool{}
	failed := false
	for ctx.Err() == nil {
		list, err := b.st.Outbox().Pending(ctx, 100)
		if err != nil {
			b.log.Error().Err(err).Msg("Reading the outbox failed")
			return true
		}
		progress := false
		for _, o := range list {
			key := string(o.Room) + "|" + string(o.DMUser)
			if blocked[key] {
				continue
			}
			err := b.deliver(ctx, o)
			if err == nil {
				// The homeserver has the event: record that even if the bot
				// is stopping, or it would be sent again.
				if err := b.st.Outbox().Done(context.WithoutCancel(ctx), o.ID); err != nil {
					b.log.Error().Err(err).Msg("Could not remove a sent message from the outbox")
					return true
				}
				progress = true
				continue
			}
			if ctx.Err() != nil {
				return true
			}
			failed = true
			blocked[key] = true
			b.recordFailure(ctx, o, err)
		}
		if !progress {
			return failed
		}
	}
	return failed
}

func (b *Bot) recordFailure(ctx context.Context, o *store.Outgoing, err error) {
	log := b.log.Warn().Err(err).Int64("outbox_id", o.ID).Stringer("room_id", o.Room).Int("attempt", o.Attempts+1)
	if tooLarge(err) || permanent(err) && o.Attempts+1 >= maxAttempts {
		log.Msg("Giving up on a message the homeserver keeps refusing")
		if err := b.st.Outbox().Done(ctx, o.ID); err != nil {
			b.log.Error().Err(err).Msg("Could not drop a refused message")
		}
		return
	}
	log.Msg("Sending failed; will retry")
	if err := b.st.Outbox().Failed(ctx, o.ID, err.Error()); err != nil {
		b.log.Error().Err(err).Msg("Could not record a send failure")
	}
}

// permanent says whether the homeserver refused the request for good (4xx
// other than rate limiting), as opposed to being unreachable or overloaded.
func permanent(err error) bool {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		code := httpErr.Response.StatusCode
		return code >= 400 && code < 500 && code != http.StatusTooManyRequests
	}
	return errors.Is(err, errNotEncrypted) || errors.Is(err, store.ErrUnreadable)
}

// tooLarge says whether the homeserver refused an event for its size:
// retrying cannot help, and would hold up the room's later messages.
func tooLarge(err error) bool {
	var httpErr mautrix.HTTPError
	return errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusRequestEntityTooLarge)
}

// txnID makes the transaction ID of an outbox entry: stable across restarts,
// so that a resend after a crash is deduplicated by the homeserver.
func (b *Bot) txnID(o *store.Outgoing) string {
	return fmt.Sprintf("quorum.%s.%d", b.st.ID, o.ID)
}

func (b *Bot) deliver(ctx context.Context, o *store.Outgoing) error {
	if o.Unreadable {
		return store.ErrUnreadable
	}
	room := o.Room
	if o.DMUser != "" {
		var err error
		if room, err = b.dmRoom(ctx, o.DMUser); err != nil {
			return fmt.Errorf("direct room with %s: %w", o.DMUser, err)
		}
	}
	switch o.Kind {
	case commands.KindMessage:
		var m msg.Message
		if err := json.Unmarshal(o.Payload, &m); err != nil {
			return fmt.Errorf("decode queued message: %w", err)
		}
		return b.sendMessage(ctx, room, m, b.txnID(o))
	case commands.KindFile:
		var f msg.File
		if err := json.Unmarshal(o.Payload, &f); err != nil {
			return fmt.Errorf("decode queued file: %w", err)
		}
		return b.sendFile(ctx, room, f, b.txnID(o))
	case commands.KindPower:
		var p msg.PowerLevel
		if err := json.Unmarshal(o.Payload, &p); err != nil {
			return fmt.Errorf("decode queued power level: %w", err)
		}
		return b.setPowerLevel(ctx, room, p)
	case commands.KindEvent:
		var e msg.Event
		if err := json.Unmarshal(o.Payload, &e); err != nil {
			return fmt.Errorf("decode queued event: %w", err)
		}
		return b.sendEvent(ctx, room, e, b.txnID(o))
	case commands.KindRedact:
		var r msg.Redaction
		if err := json.Unmarshal(o.Payload, &r); err != nil {
			return fmt.Errorf("decode queued redaction: %w", err)
		}
		return b.redact(ctx, room, r)
	}
	return fmt.Errorf("unknown outbox kind %q", o.Kind)
}

// content turns a message into event content. Relations to anchors are
// resolved now, since the anchored message may have been sent only just.
func (b *Bot) content(ctx context.Context, m msg.Message) (map[string]any, error) {
	c := &event.MessageEventContent{
		MsgType:       event.MsgNotice,
		Body:          m.Body,
		Format:        event.FormatHTML,
		FormattedBody: m.HTML,
		Mentions:      &event.Mentions{UserIDs: m.Mentions},
	}
	if c.Mentions.UserIDs == nil {
		c.Mentions.UserIDs = []id.UserID{}
	}
	replyTo := m.ReplyTo
	if m.ReplyToAnchor != nil {
		_, evt, ok, err := b.st.Anchors().Event(ctx, store.Anchor(*m.ReplyToAnchor))
		if err != nil {
			return nil, err
		}
		if ok {
			replyTo = evt
		}
	}
	fields := func(into map[string]any) map[string]any {
		for k, v := range m.Fields {
			into[k] = v
		}
		return into
	}
	out, err := toMap(c)
	if err != nil {
		return nil, err
	}
	if m.Edit != nil {
		_, orig, ok, err := b.st.Anchors().Event(ctx, store.Anchor(*m.Edit))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("message to edit (%s %d) not sent yet", m.Edit.Kind, m.Edit.Ref)
		}
		newContent := fields(out)
		out, err = toMap(c)
		if err != nil {
			return nil, err
		}
		out["m.new_content"] = newContent
		out["body"] = "* " + m.Body
		out["formatted_body"] = "* " + m.HTML
		out["m.relates_to"] = map[string]any{"rel_type": event.RelReplace, "event_id": orig}
		// The edit itself mentions nobody: only the first version pings.
		out["m.mentions"] = map[string]any{}
		return fields(out), nil
	}
	if replyTo != "" {
		out["m.relates_to"] = map[string]any{"m.in_reply_to": map[string]any{"event_id": replyTo}}
	}
	return fields(out), nil
}

func toMap(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(data, &out)
}

// sendMessage sends m to room, encrypted (refusing to send it in the clear
// unless it is the one notice allowed to be).
func (b *Bot) sendMessage(ctx context.Context, room id.RoomID, m msg.Message, txnID string) error {
	if err := b.requireEncrypted(ctx, room, m.Plaintext); err != nil {
		return err
	}
	content, err := b.content(ctx, m)
	if err != nil {
		return err
	}
	if m.PadTo > 0 {
		if err := pad(content, room, m.PadTo); err != nil {
			return err
		}
	}
	resp, err := b.cli.SendMessageEvent(ctx, room, event.EventMessage, content, mautrix.ReqSendEvent{TransactionID: txnID})
	if err != nil {
		return err
	}
	return b.anchor(context.WithoutCancel(ctx), m, room, resp.EventID)
}

// anchor records that evt stands for what m is anchored to.
func (b *Bot) anchor(ctx context.Context, m msg.Message, room id.RoomID, evt id.EventID) error {
	if m.Anchor == nil {
		return nil
	}
	return b.st.Anchors().Put(ctx, evt, room, store.Anchor(*m.Anchor))
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
	o, found, err := b.st.Outbox().Get(ctx, outID)
	if err != nil || !found {
		return err
	}
	if o.Kind == commands.KindMessage {
		var m msg.Message
		if err := json.Unmarshal(o.Payload, &m); err == nil {
			if err := b.anchor(ctx, m, evt.RoomID, evt.ID); err != nil {
				return err
			}
		}
	}
	if o.Kind == commands.KindEvent {
		var e msg.Event
		if err := json.Unmarshal(o.Payload, &e); err == nil && e.Anchor != nil {
			if err := b.st.Anchors().Put(ctx, evt.ID, evt.RoomID, store.Anchor(*e.Anchor)); err != nil {
				return err
			}
		}
	}
	return b.st.Outbox().Done(ctx, outID)
}

func (b *Bot) requireEncrypted(ctx context.Context, room id.RoomID, plaintextAllowed bool) error {
	if plaintextAllowed || !b.cfg.RequireEncryption {
		return nil
	}
	enc, err := b.cli.StateStore.IsEncrypted(ctx, room)
	if err != nil {
		return err
	}
	if !enc {
		return errNotEncrypted
	}
	return nil
}

// sendFile uploads f encrypted (the media repository only ever sees
// ciphertext) and posts it.
func (b *Bot) sendFile(ctx context.Context, room id.RoomID, f msg.File, txnID string) error {
	if err := b.requireEncrypted(ctx, room, false); err != nil {
		return err
	}
	file := attachment.NewEncryptedFile()
	data := append([]byte(nil), f.Data...)
	file.EncryptInPlace(data)
	up, err := b.cli.UploadBytesWithName(ctx, data, "application/octet-stream", "")
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	c := &event.MessageEventContent{
		MsgType:  event.MsgFile,
		Body:     f.Name,
		FileName: f.Name,
		Info:     &event.FileInfo{MimeType: f.MimeType, Size: len(f.Data)},
		File:     &event.EncryptedFileInfo{EncryptedFile: *file, URL: up.ContentURI.CUString()},
		Mentions: &event.Mentions{UserIDs: []id.UserID{}},
	}
	if f.Caption != "" {
		c.Body = f.Caption
	}
	if f.ReplyTo != "" {
		c.RelatesTo = &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: f.ReplyTo}}
	}
	_, err = b.cli.SendMessageEvent(ctx, room, event.EventMessage, c, mautrix.ReqSendEvent{TransactionID: txnID})
	return err
}

// setPowerLevel changes one member's level, reading the current levels from
// the server (not the cache) so as not to undo someone else's change. If the
// bot lacks the power, it says so in the room instead.
func (b *Bot) setPowerLevel(ctx context.Context, room id.RoomID, p msg.PowerLevel) error {
	var pl event.PowerLevelsEventContent
	if err := b.cli.StateEvent(ctx, room, event.StatePowerLevels, "", &pl); err != nil {
		return fmt.Errorf("read power levels: %w", err)
	}
	current := pl.GetUserLevel(p.User)
	if current == p.Level {
		return nil
	}
	if p.From != nil && current != *p.From {
		b.log.Info().Stringer("room_id", room).Stringer("user", p.User).Msg("Power level changed meanwhile; leaving it alone")
		return nil
	}
	if !pl.EnsureUserLevelAs(b.cli.UserID, p.User, p.Level) {
		return b.cannot(ctx, room, p)
	}
	_, err := b.cli.SendStateEvent(ctx, room, event.StatePowerLevels, "", &pl)
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusForbidden) {
		return b.cannot(ctx, room, p)
	}
	return err
}

func (b *Bot) cannot(ctx context.Context, room id.RoomID, p msg.PowerLevel) error {
	b.log.Info().Stringer("room_id", room).Stringer("user", p.User).Int("level", p.Level).Msg("Lacking the power to set a power level")
	return b.say(ctx, room, p.Reason)
}

// say queues a notice in room (nothing if text is empty).
func (b *Bot) say(ctx context.Context, room id.RoomID, text string) error {
	if text == "" {
		return nil
	}
	_, err := b.st.Outbox().Add(ctx, store.Outgoing{Room: room, Kind: commands.KindMessage, Payload: msg.Marshal(msg.F("%s", text))}, b.clock.Now())
	return err
}

// redact removes an event; without the power to, it says r.IfRefused.
func (b *Bot) redact(ctx context.Context, room id.RoomID, r msg.Redaction) error {
	_, err := b.cli.RedactEvent(ctx, room, r.Event, mautrix.ReqRedact{Reason: r.Reason})
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusForbidden) {
		b.log.Info().Stringer("room_id", room).Msg("Lacking the power to redact")
		return b.say(ctx, room, r.IfRefused)
	}
	return err
}
