package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"quorum/msg"
)

// When the database cannot be written (the disk is full, or the file or
// its file system became read-only), every event fails: a command's effects
// and even its apology are database writes, and so is decrypting (mautrix
// records each message index). The bot then:
//   - says so in its log, once a minute at most, naming the file and the
//     cause;
//   - answers a command at once, bypassing the outbox, that it did nothing
//     (once a minute at most per room), and never does that command later:
//     the member was told to send it again;
//   - does not save the sync token of a response in which an event failed
//     this way, and stops the sync, which restarts from the last saved
//     token (bot.syncLoop, with backoff). So nothing is lost: reactions and
//     everything else sent meanwhile come again and are handled once the
//     database can be written. Events of that response that were handled
//     are replayed harmlessly (every handler is safe to replay).
//
// A refused command is remembered in memory only: if the bot restarts
// before the database can be written again, the command comes again
// afterwards and is then carried out, although the member was told it was
// not.

// storageState is what the bot knows about failed database writes.
type storageState struct {
	mu sync.Mutex
	// failed is set when an event of the response being processed could not
	// be handled for want of storage; it stops the sync token being saved.
	failed error
	// logged is when the last log line about it was written.
	logged time.Time
	// replied is when each room was last told.
	replied map[id.RoomID]time.Time
	// refused are the commands the bot said it did not do.
	refused map[id.EventID]bool
}

// storageNoticeInterval is the least time between two log lines, and
// between two replies in one room, about the database.
const storageNoticeInterval = time.Minute

// maxRefused bounds the memory of refused commands; beyond it, a refused
// command may be carried out once the database can be written again.
const maxRefused = 10000

// The storage problems, as logged (not for members); problemText words
// them for members.
const full, readOnly = "the server's disk is full", "my database is read-only" // not for members

var problemText = map[string]msg.Text{
	full:     msg.T("the server's disk is full"),
	readOnly: msg.T("my database is read-only"),
}

// storageProblem says why err is a failed write for want of storage: "the
// server's disk is full" or "my database is read-only", or "" when err is
// something else. SQLite reports these as SQLITE_FULL and SQLITE_READONLY
// (with extended codes in the high bits); the text is checked too, for
// errors that were flattened on their way up.
func storageProblem(err error) string {
	if err == nil {
		return ""
	}
	if se, ok := errors.AsType[*sqlite.Error](err); ok {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return full
		case sqlite3.SQLITE_READONLY:
			return readOnly
		}
	}
	text := err.Error()
	switch {
	case strings.Contains(text, "SQLITE_FULL"), strings.Contains(text, "database or disk is full"): // SQLite's text, not for members
		return full
	case strings.Contains(text, "SQLITE_READONLY"), strings.Contains(text, "readonly database"):
		return readOnly
	}
	return ""
}

// storageFailed handles err from handling evt (or decrypting it) if it is a
// failed write for want of storage, and reports whether it was.
func (b *Bot) storageFailed(ctx context.Context, evt *event.Event, err error) bool {
	problem := storageProblem(err)
	if problem == "" {
		return false
	}
	s := &b.syncer.storage
	now := time.Now()
	s.mu.Lock()
	s.failed = fmt.Errorf("an event could not be handled because %s; its sync token is not saved so that it comes again: %w", problem, err)
	logNow := now.Sub(s.logged) >= storageNoticeInterval
	if logNow {
		s.logged = now
	}
	s.mu.Unlock()
	if logNow {
		b.log.Error().Err(err).Str("database", b.cfg.Database).Str("cause", problem).
			Msg("Cannot write to the database: refusing commands and holding back events until it can be written (free disk space or make the file writable)")
	}
	if !b.isCommand(ctx, evt) {
		return true // a vote or anything else: it comes again with the sync
	}
	if ok, ferr := b.fresh(ctx, evt); ferr != nil || !ok {
		return true
	}
	s.mu.Lock()
	if s.refused == nil {
		s.refused, s.replied = map[id.EventID]bool{}, map[id.RoomID]time.Time{}
	}
	if s.refused[evt.ID] {
		s.mu.Unlock()
		return true
	}
	if len(s.refused) < maxRefused {
		s.refused[evt.ID] = true
	}
	replyNow := now.Sub(s.replied[evt.RoomID]) >= storageNoticeInterval
	if replyNow {
		s.replied[evt.RoomID] = now
	}
	s.mu.Unlock()
	if replyNow {
		b.replyStorage(ctx, evt, problem)
	}
	return true
}

// refusedCommand says whether evt is a command the bot refused for want of
// storage (and so must not carry out when it comes again).
func (b *Bot) refusedCommand(evt *event.Event) bool {
	s := &b.syncer.storage
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused[evt.ID]
}

// takeStorageFailure returns, and forgets, the storage failure of the
// response just processed.
func (s *storageState) takeFailure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.failed
	s.failed = nil
	return err
}

// replyStorage answers the command evt directly (the outbox is in the
// database): encrypted like every reply if the crypto store lets the bot
// encrypt; if encrypting fails too (it records each message's index in the
// same database), the fixed text goes in the clear, as it holds nothing the
// homeserver does not know.
func (b *Bot) replyStorage(ctx context.Context, evt *event.Event, problem string) {
	m := msg.F("I can't save anything right now (%s), so I did nothing. "+
		"The operators have been told in my log; please send your command again later.", problemText[problem]).
		Localize(b.lang(ctx, evt.RoomID)).Mention(evt.Sender)
	m.ReplyTo = evt.ID
	txnID := "quorum.storage." + evt.ID.String()
	err := b.sendMessage(ctx, evt.RoomID, "", m, txnID) // a fixed text: no check of a direct room's members (they need the database)
	if storageProblem(err) != "" {
		var content map[string]any
		if content, err = b.content(ctx, evt.RoomID, m); err == nil {
			_, err = b.cli.SendMessageEvent(ctx, evt.RoomID, event.EventMessage, content,
				mautrix.ReqSendEvent{TransactionID: txnID + ".clear", DontEncrypt: true})
		}
	}
	if err != nil {
		b.logRoom(ctx, b.log.Error().Err(err), evt.RoomID).Msg("Could not say that the database cannot be written")
	}
}

// isCommand says whether evt is a command to the bot. An encrypted event
// that could not be decrypted because the database cannot be written is
// decrypted here without recording anything, only to see whether it is a
// command (and so deserves an answer); it is handled for real when it comes
// again.
func (b *Bot) isCommand(ctx context.Context, evt *event.Event) bool {
	content := evt.Content.AsMessage()
	if evt.Type == event.EventEncrypted {
		var ok bool
		if content, ok = b.peek(ctx, evt); !ok {
			return false
		}
	} else if evt.Type != event.EventMessage {
		return false
	}
	if content.MsgType != event.MsgText || content.RelatesTo.GetReplaceID() != "" {
		return false
	}
	content.RemoveReplyFallback()
	return b.asm != nil && b.asm.IsCommand(strings.ToValidUTF8(commandText(content), "\uFFFD"))
}

// peek decrypts a megolm message with the stored session, reading only.
func (b *Bot) peek(ctx context.Context, evt *event.Event) (*event.MessageEventContent, bool) {
	enc := evt.Content.AsEncrypted()
	if enc.Algorithm != id.AlgorithmMegolmV1 || b.crypto == nil {
		return nil, false
	}
	sess, err := b.crypto.Machine().CryptoStore.GetGroupSession(ctx, evt.RoomID, enc.SessionID)
	if err != nil || sess == nil {
		return nil, false
	}
	plaintext, _, err := sess.Internal.Decrypt(enc.MegolmCiphertext)
	if err != nil {
		return nil, false
	}
	var inner struct {
		Type    string                    `json:"type"`
		RoomID  id.RoomID                 `json:"room_id"`
		Content event.MessageEventContent `json:"content"`
	}
	if json.Unmarshal(plaintext, &inner) != nil || inner.Type != event.EventMessage.Type || inner.RoomID != evt.RoomID {
		return nil, false
	}
	return &inner.Content, true
}
