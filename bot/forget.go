package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/id"
)

// A store that forgets. Whoever seizes the bot's database and the key files
// beside it must not be able to fetch what members sent the bot (a DM
// `!vote` above all) from the homeserver and decrypt it. mautrix keeps
// every inbound megolm session whole by default, which decrypts every
// message of the session, past and future. So the bot:
//
//   - ratchets a session forward once it decrypted a message
//     (RatchetKeysOnDecrypt): what is stored then decrypts only later
//     messages, and messages of the session it has not decrypted yet
//     (mautrix keeps the ratchet at the lowest index still missing, so late
//     keys and catch-up after downtime still work);
//   - deletes a session once its last message was decrypted
//     (DeleteFullyUsedKeysOnDecrypt), and the sessions of devices their
//     owners deleted (DeleteKeysOnDeviceDelete);
//   - deletes mautrix's record of each decrypted message (event ID, time,
//     index: crypto_message_index) once the session was ratcheted past it,
//     so the database keeps no list of which direct messages came when.
//
// Not used, and why: DeletePreviousKeysOnReceive would drop a sender's older
// session when a newer one arrives, so messages of the older one still
// unread after downtime could no longer be decrypted; DontStoreOutboundKeys
// would make the bot's own messages undecryptable to itself, and the crypto
// helper would then wait for their keys and request them from its own
// devices for every message it sends (the ratchet covers them: the bot
// decrypts its own echo and ratchets past it); DeleteOutboundKeysOnAck
// works only with Beeper's servers. The outbound sessions it keeps cannot
// decrypt what was sent with them: a megolm ratchet only moves forward.
//
// The window that remains: an event decrypted but not yet handled when the
// bot is killed cannot be decrypted again after the restart (the ratchet
// moved on); the bot then says in the room that it could not decrypt a
// message, and the member sends it again.
func forgetful(mach *crypto.OlmMachine) {
	if cs, ok := mach.CryptoStore.(*crypto.SQLCryptoStore); ok {
		mach.CryptoStore = ratchetStore{cs}
	}
	mach.RatchetKeysOnDecrypt = true
	mach.DeleteFullyUsedKeysOnDecrypt = true
	mach.DeleteKeysOnDeviceDelete = true
}

// ratchetStore is mautrix's SQL crypto store with a fix: in v0.32.0 it
// stores each inbound session's ratchet safety (the next message index
// expected, the ones still missing) but never loads it
// (postScanInboundGroupSession returns a zero value). mautrix then takes
// every message but the session's first for one that skipped the indexes
// before it, and ratchets no further than the lowest of those: a member's
// second message in a session, a !vote after a !help say, would stay
// decryptable. GetGroupSession here loads it.
type ratchetStore struct{ *crypto.SQLCryptoStore }

// GetGroupSession implements crypto.Store, with the ratchet safety loaded.
func (s ratchetStore) GetGroupSession(ctx context.Context, room id.RoomID, session id.SessionID) (*crypto.InboundGroupSession, error) {
	sess, err := s.SQLCryptoStore.GetGroupSession(ctx, room, session)
	if err != nil || sess == nil {
		return sess, err
	}
	var safety []byte
	err = s.DB.QueryRow(ctx, "SELECT ratchet_safety FROM crypto_megolm_inbound_session WHERE session_id=$1 AND account_id=$2",
		session, s.AccountID).Scan(&safety)
	if err != nil {
		return nil, fmt.Errorf("read ratchet safety: %w", err)
	}
	if len(safety) > 0 {
		if err := json.Unmarshal(safety, &sess.RatchetSafety); err != nil {
			return nil, fmt.Errorf("read ratchet safety: %w", err)
		}
	}
	return sess, nil
}

// cryptoStore is the bot's SQL crypto store.
func (b *Bot) cryptoStore() (*crypto.SQLCryptoStore, bool) {
	switch cs := b.crypto.Machine().CryptoStore.(type) {
	case ratchetStore:
		return cs.SQLCryptoStore, true
	case *crypto.SQLCryptoStore:
		return cs, true
	}
	return nil, false
}

// forgetIndex deletes mautrix's record of the message index of evt, once
// the session was ratcheted past it (a replay of that message then fails to
// decrypt anyway). It is called after evt was handled.
func (b *Bot) forgetIndex(ctx context.Context, room id.RoomID, evt id.EventID) {
	cs, ok := b.cryptoStore()
	if !ok {
		return
	}
	var session id.SessionID
	var index uint32
	err := cs.DB.QueryRow(ctx, `SELECT session_id, "index" FROM crypto_message_index WHERE event_id=$1`, evt).Scan(&session, &index)
	if err != nil {
		return // none (a plain event), or nothing to forget
	}
	if err := b.forgetIndexes(ctx, cs, room, session, index+1); err != nil && ctx.Err() == nil {
		b.log.Warn().Err(err).Msg("Could not forget a decrypted message's index; done at the next sweep")
	}
}

// forgetIndexes deletes the index records of session below below, as far
// as the stored session was ratcheted (all of them if it was deleted).
func (b *Bot) forgetIndexes(ctx context.Context, cs *crypto.SQLCryptoStore, room id.RoomID, session id.SessionID, below uint32) error {
	sess, err := cs.GetGroupSession(ctx, room, session)
	switch {
	case errors.Is(err, crypto.ErrGroupSessionWithheld) || err == nil && sess == nil:
		below = ^uint32(0) // deleted (or never had): nothing to protect against replays
	case err != nil:
		return err
	default:
		below = min(below, sess.Internal.FirstKnownIndex())
	}
	_, err = cs.DB.Exec(ctx, `DELETE FROM crypto_message_index WHERE session_id=$1 AND "index" < $2`, session, int64(below))
	return err
}

// sweepIndexes is forgetIndex for every session: on start, and before the
// database is compacted when a secret ballot ends.
func (b *Bot) sweepIndexes(ctx context.Context) error {
	cs, ok := b.cryptoStore()
	if !ok {
		return nil
	}
	rows, err := cs.DB.Query(ctx, `SELECT DISTINCT m.session_id, COALESCE(s.room_id, '') FROM crypto_message_index m
		LEFT JOIN crypto_megolm_inbound_session s ON s.session_id=m.session_id AND s.account_id=$1`, cs.AccountID)
	if err != nil {
		return fmt.Errorf("sweep message indexes: %w", err)
	}
	type pair struct {
		session id.SessionID
		room    id.RoomID
	}
	var list []pair
	for rows.Next() {
		var p pair
		if err := rows.Scan(&p.session, &p.room); err != nil {
			rows.Close()
			return fmt.Errorf("sweep message indexes: %w", err)
		}
		list = append(list, p)
	}
	rows.Close()
	for _, p := range list {
		if err := b.forgetIndexes(ctx, cs, p.room, p.session, ^uint32(0)); err != nil {
			return fmt.Errorf("sweep message indexes: %w", err)
		}
	}
	return nil
}

// logRoom adds room to a log line, unless it is a member's direct room:
// the log never pairs a direct room with its member, and never says when
// one was written in.
func (b *Bot) logRoom(ctx context.Context, e *zerolog.Event, room id.RoomID) *zerolog.Event {
	if room == "" {
		return e
	}
	if _, direct, err := b.st.DMs().User(ctx, room); err == nil && direct {
		return e.Bool("direct_room", true)
	}
	return e.Stringer("room_id", room)
}

// logEvent adds an event and its room to a log line, leaving out both for
// an event of a direct room.
func (b *Bot) logEvent(ctx context.Context, e *zerolog.Event, room id.RoomID, evt id.EventID) *zerolog.Event {
	if _, direct, err := b.st.DMs().User(ctx, room); err == nil && direct {
		return e.Bool("direct_room", true)
	}
	return b.logRoom(ctx, e, room).Stringer("event_id", evt)
}
