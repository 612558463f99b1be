package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
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
// Expired sessions are not redacted (RedactExpiredGroupSessions): a
// member's client may still write with a session older than twice its
// rotation period, and what the bot has read is out of reach already.
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

// PutGroupSession implements crypto.Store, and stores the session even
// when ctx is cancelled: the bot stops by cancelling the context its sync
// hands to mautrix, which may be decrypting a message then. A ratchet not
// stored would leave in the database a session that decrypts the message.
func (s ratchetStore) PutGroupSession(ctx context.Context, sess *crypto.InboundGroupSession) error {
	return s.SQLCryptoStore.PutGroupSession(context.WithoutCancel(ctx), sess)
}

// RedactGroupSession implements crypto.Store, and deletes a fully used
// session even when ctx is cancelled (as PutGroupSession).
func (s ratchetStore) RedactGroupSession(ctx context.Context, room id.RoomID, session id.SessionID, reason string) error {
	return s.SQLCryptoStore.RedactGroupSession(context.WithoutCancel(ctx), room, session, reason)
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
	if err := forgetIndexes(ctx, cs, room, session, index+1); err != nil && ctx.Err() == nil {
		b.log.Warn().Err(err).Msg("Could not forget a decrypted message's index; done at the next sweep")
	}
}

// forgetIndexes deletes the index records of session below below, as far
// as the stored session was ratcheted (all of them if it was deleted).
func forgetIndexes(ctx context.Context, cs *crypto.SQLCryptoStore, room id.RoomID, session id.SessionID, below uint32) error {
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

// forgetCryptoMetadata is what the bot does on start, on a clean stop, soon
// after every change of an open secret ballot (in the background, followed
// by a checkpoint: store.OnBallotChange) and before the database is
// compacted when a secret ballot ends: it deletes
// the message indexes the sessions were ratcheted past, and blurs the
// crypto store's timestamps to the day.
func (b *Bot) forgetCryptoMetadata(ctx context.Context) error {
	cs, ok := b.cryptoStore()
	if !ok {
		return nil
	}
	return forgetCryptoMetadata(ctx, cs)
}

func forgetCryptoMetadata(ctx context.Context, cs *crypto.SQLCryptoStore) error {
	if err := sweepIndexes(ctx, cs); err != nil {
		return err
	}
	return blurCryptoTimes(ctx, cs)
}

// forgetOnStop runs forgetCryptoMetadata, rewrites the database and empties
// the WAL on a clean stop (store.Compact). The rewrite is for what
// secure_delete does not reach: when SQLite rebalances a b-tree it rebuilds
// pages without clearing their unused space, where old copies of moved
// rows can stay (a record of a decrypted message, since deleted, say).
func (b *Bot) forgetOnStop() {
	ctx := context.Background()
	if err := b.st.Compact(ctx); err != nil {
		b.log.Warn().Err(err).Msg("Could not rewrite the database and empty its WAL before stopping")
		if err := b.st.Checkpoint(ctx); err != nil {
			b.log.Warn().Err(err).Msg("Could not empty the database's WAL before stopping")
		}
	}
}

// blurCryptoTimes rounds the times mautrix keeps in the crypto store down to
// the day (UTC), and rewrites its session tables in the order of their keys. They say to the second when each member's device last
// sent the bot a key (olm sessions), when each of their megolm sessions
// reached the bot, and when the bot last wrote in each direct room
// (outbound sessions): the time of a member's secret ballot, give or take a
// second. mautrix needs no more than the day: the age of outbound sessions
// (rotated after a week), whether an inbound session's arrival is known,
// and, for the olm sessions of one device, which is the newest, which is
// kept by giving them the same day and milliseconds in the old order.
func blurCryptoTimes(ctx context.Context, cs *crypto.SQLCryptoStore) error {
	day := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
	return cs.DB.DoTxn(ctx, nil, func(ctx context.Context) error {
		type outbound struct {
			room          id.RoomID
			created, used time.Time
		}
		rows, err := cs.DB.Query(ctx, "SELECT room_id, created_at, last_used FROM crypto_megolm_outbound_session WHERE account_id=$1", cs.AccountID)
		out, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (o outbound, err error) {
			err = row.Scan(&o.room, &o.created, &o.used)
			return
		}, err).AsList()
		if err != nil {
			return fmt.Errorf("blur outbound sessions: %w", err)
		}
		for _, o := range out {
			if o.created.Equal(day(o.created)) && o.used.Equal(day(o.created)) {
				continue
			}
			if _, err := cs.DB.Exec(ctx, "UPDATE crypto_megolm_outbound_session SET created_at=$3, last_used=$3 WHERE account_id=$1 AND room_id=$2",
				cs.AccountID, o.room, day(o.created)); err != nil {
				return fmt.Errorf("blur outbound sessions: %w", err)
			}
		}
		type inbound struct {
			session  id.SessionID
			received time.Time
		}
		rows, err = cs.DB.Query(ctx, "SELECT session_id, received_at FROM crypto_megolm_inbound_session WHERE account_id=$1 AND received_at IS NOT NULL", cs.AccountID)
		in, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (i inbound, err error) {
			err = row.Scan(&i.session, &i.received)
			return
		}, err).AsList()
		if err != nil {
			return fmt.Errorf("blur inbound sessions: %w", err)
		}
		for _, i := range in {
			if i.received.Equal(day(i.received)) {
				continue
			}
			if _, err := cs.DB.Exec(ctx, "UPDATE crypto_megolm_inbound_session SET received_at=$3 WHERE account_id=$1 AND session_id=$2",
				cs.AccountID, i.session, day(i.received)); err != nil {
				return fmt.Errorf("blur inbound sessions: %w", err)
			}
		}
		type olmSession struct {
			sender, session          string
			created, last, encrypted time.Time
		}
		rows, err = cs.DB.Query(ctx, "SELECT sender_key, session_id, created_at, last_decrypted, last_encrypted FROM crypto_olm_session WHERE account_id=$1", cs.AccountID)
		olm, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (o olmSession, err error) {
			err = row.Scan(&o.sender, &o.session, &o.created, &o.last, &o.encrypted)
			return
		}, err).AsList()
		if err != nil {
			return fmt.Errorf("blur olm sessions: %w", err)
		}
		slices.SortFunc(olm, func(a, b olmSession) int {
			return cmp.Or(strings.Compare(a.sender, b.sender), a.last.Compare(b.last), strings.Compare(a.session, b.session))
		})
		for i := 0; i < len(olm); {
			j := i
			for j < len(olm) && olm[j].sender == olm[i].sender {
				j++
			}
			base := day(olm[j-1].last) // the day of the device's newest session
			for k := i; k < j; k++ {
				at := base.Add(time.Duration(k-i) * time.Millisecond)
				if o := olm[k]; o.created.Equal(day(o.created)) && o.last.Equal(at) && o.encrypted.Equal(at) {
					continue // blurred by an earlier run
				}
				if _, err := cs.DB.Exec(ctx, `UPDATE crypto_olm_session SET created_at=$3, last_decrypted=$4, last_encrypted=$4
					WHERE account_id=$1 AND session_id=$2`, cs.AccountID, olm[k].session, day(olm[k].created), at); err != nil {
					return fmt.Errorf("blur olm sessions: %w", err)
				}
			}
			i = j
		}
		// When each olm message came (ms; mautrix only deletes the record
		// some syncs later): a member's key for their direct chat comes
		// just before their ballot. To the minute, as the room sees the
		// turnout move.
		if _, err := cs.DB.Exec(ctx, "UPDATE crypto_olm_message_hash SET received_at=received_at-received_at%60000 WHERE account_id=$1 AND received_at%60000 != 0", cs.AccountID); err != nil {
			return fmt.Errorf("blur olm message times: %w", err)
		}
		// When the bot last fetched each member's devices (seconds): when
		// they joined a direct room, or added a device to vote with.
		if _, err := cs.DB.Exec(ctx, "UPDATE crypto_tracked_user SET last_attempt=last_attempt-last_attempt%86400 WHERE last_attempt%86400 != 0"); err != nil {
			return fmt.Errorf("blur tracked users: %w", err)
		}
		// Rows of these tables get their rowid, and their place in the
		// file, in the order they came: the order in which members first
		// sent the bot a key, often with their ballot, and in which the
		// bot answered them. Rewrite them in the order of their keys.
		for _, t := range []struct{ table, key string }{
			{"crypto_megolm_inbound_session", "account_id, session_id"},
			{"crypto_olm_session", "account_id, session_id"},
			{"crypto_megolm_outbound_session", "account_id, room_id"},
			// Which devices each outbound session was shared with: a row
			// for every direct message the bot wrote with a new session, a
			// secret ballot's receipt above all.
			{"crypto_megolm_outbound_session_shared", "user_id, identity_key, session_id"}, // SQL, not for members
			// The state store's members: a member's row of their direct
			// room is rewritten when they join it, often to vote.
			{"mx_user_profile", "room_id, user_id"},
		} {
			for _, q := range []string{
				"CREATE TEMP TABLE quorum_reorder AS SELECT * FROM " + t.table,
				"DELETE FROM " + t.table,
				"INSERT INTO " + t.table + " SELECT * FROM temp.quorum_reorder ORDER BY " + t.key,
				"DROP TABLE temp.quorum_reorder",
			} {
				if _, err := cs.DB.Exec(ctx, q); err != nil {
					return fmt.Errorf("reorder %s: %w", t.table, err)
				}
			}
		}
		return nil
	})
}

// sweepIndexes is forgetIndex for every session.
func sweepIndexes(ctx context.Context, cs *crypto.SQLCryptoStore) error {
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
		if err := forgetIndexes(ctx, cs, p.room, p.session, ^uint32(0)); err != nil {
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
