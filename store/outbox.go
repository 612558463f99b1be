package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Outgoing is one queued action for the homeserver. Payload is owned by the
// writer and the sender (package msg defines it for messages); the store only
// keeps it in order.
type Outgoing struct {
	ID       int64
	Room     id.RoomID // "" for a direct message: the sender finds or creates the room
	DMUser   id.UserID // the member a direct message is for
	Kind     string
	Payload  json.RawMessage
	Attempts int
	// Queued is when the entry was added.
	Queued time.Time
	// Unreadable is set on an entry whose payload does not open with the
	// seal key beside the database (Payload is then nil).
	Unreadable bool
	// Fallback, given to Add, makes the entry unkept: Payload is sealed
	// with a key that only this run of the bot holds, so that no copy of
	// the files, even with the seal key, opens it (a secret ballot's
	// receipt: its code and its member together would tie the member to
	// their vote). If the bot stops before sending it, Fallback is read
	// and sent instead (Lost is then set).
	Fallback json.RawMessage
	Lost     bool
}

// Outbox is the queue of messages to send. Rules write to it in the same
// transaction as the change they report, so a crash can lose neither; the
// sender deletes an entry once the homeserver accepted it.
//
// Payloads are sealed (seal.go): while a message waits (the homeserver is
// unreachable, say), the database file alone does not tell what it says, a
// receipt or a ballot or a private place. Who a direct message is for, its
// kind and when it was queued are in the clear. Once sent, the entry is
// deleted and overwritten (secure_delete), and the WAL's copies go at the
// next checkpoint (at the latest when a ballot closes or the bot stops).
type Outbox struct {
	db *dbutil.Database
	st *Store
}

// Outbox returns the outbox table.
func (s *Store) Outbox() Outbox { return Outbox{s.DB, s} }

// ErrUnreadable is a queued entry whose payload does not open with the seal
// key beside the database: it can never be sent.
var ErrUnreadable = errors.New("queued message cannot be read with this seal key")

// Add queues o and returns its ID.
func (o Outbox) Add(ctx context.Context, out Outgoing, now time.Time) (int64, error) {
	var fallback []byte // NULL unless unkept
	if out.Fallback != nil {
		var err error
		if fallback, err = o.st.seal.seal("outbox", out.Fallback, nil); err != nil {
			return 0, fmt.Errorf("queue message: %w", err)
		}
	}
	sealed, err := o.payloadSealer(out.Fallback != nil).seal("outbox", out.Payload, nil)
	if err != nil {
		return 0, fmt.Errorf("queue message: %w", err)
	}
	if out.DMUser != "" || out.Fallback != nil {
		// For one member: when it was queued (a receipt: when they voted)
		// is kept to the hour, enough to give it up after maxQueueAge.
		now = now.Truncate(time.Hour)
	}
	res, err := o.db.Exec(ctx,
		"INSERT INTO outbox (room_id, dm_user, kind, payload, created_at, fallback) VALUES ($1, $2, $3, $4, $5, $6)",
		out.Room, out.DMUser, out.Kind, sealed, now.UnixMilli(), fallback)
	if err != nil {
		return 0, fmt.Errorf("queue message: %w", err)
	}
	return res.LastInsertId()
}

// payloadSealer seals the payload of an entry: with this run's key if it
// is unkept (Outgoing.Fallback), else with the seal key.
func (o Outbox) payloadSealer(unkept bool) *sealer {
	if unkept {
		return o.st.unkept
	}
	return o.st.seal
}

const outboxColumns = "id, room_id, dm_user, kind, payload, attempts, created_at, fallback"

// scanOutgoing reads an entry; one whose payload does not open is returned
// with Payload nil and Unreadable set.
func (o Outbox) scanOutgoing(row dbutil.Scannable) (*Outgoing, error) {
	var out Outgoing
	var payload, fallback []byte
	var queued int64
	err := row.Scan(&out.ID, &out.Room, &out.DMUser, &out.Kind, &payload, &out.Attempts, &queued, &fallback)
	if err != nil {
		return nil, err
	}
	out.Queued = time.UnixMilli(queued)
	if !isSealed(payload) {
		out.Payload = json.RawMessage(payload) // queued before payloads were sealed
		return &out, nil
	}
	if fallback != nil {
		plain, err := o.st.unkept.open("outbox", payload, nil)
		if err == nil {
			out.Payload = plain
			return &out, nil
		} else if !errors.Is(err, ErrSealKey) {
			return nil, err
		}
		out.Lost, payload = true, fallback // sealed by an earlier run
	}
	plain, err := o.st.seal.open("outbox", payload, nil)
	if errors.Is(err, ErrSealKey) {
		out.Unreadable = true
		return &out, nil
	} else if err != nil {
		return nil, err
	}
	out.Payload = plain
	return &out, nil
}

// Pending lists up to limit queued entries, oldest first.
func (o Outbox) Pending(ctx context.Context, limit int) ([]*Outgoing, error) {
	rows, err := o.db.Query(ctx,
		"SELECT "+outboxColumns+" FROM outbox ORDER BY id LIMIT $1", limit)
	list, err := dbutil.NewRowIterWithError(rows, o.scanOutgoing, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return list, nil
}

// Destination is where entries go in order: a room, or a member's direct
// messages (Room empty).
type Destination struct {
	Room   id.RoomID
	DMUser id.UserID
}

// Destination returns where out goes.
func (out *Outgoing) Destination() Destination { return Destination{out.Room, out.DMUser} }

// Destinations lists the destinations with queued entries, the one with
// the oldest entry first.
func (o Outbox) Destinations(ctx context.Context) ([]Destination, error) {
	rows, err := o.db.Query(ctx,
		"SELECT room_id, dm_user FROM outbox GROUP BY room_id, dm_user ORDER BY MIN(id)")
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (d Destination, err error) {
		return d, row.Scan(&d.Room, &d.DMUser)
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return list, nil
}

// Next returns the oldest entry queued for d.
func (o Outbox) Next(ctx context.Context, d Destination) (*Outgoing, bool, error) {
	out, err := o.scanOutgoing(o.db.QueryRow(ctx,
		"SELECT "+outboxColumns+" FROM outbox WHERE room_id=$1 AND dm_user=$2 ORDER BY id LIMIT 1", d.Room, d.DMUser))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("read outbox: %w", err)
	}
	return out, true, nil
}

// Unkept says whether an unkept entry (Outgoing.Fallback) of this run is
// queued: one that is lost if the bot stops now. Those of an earlier run
// are lost already; their fallback goes whenever the bot runs.
func (o Outbox) Unkept(ctx context.Context) (bool, error) {
	rows, err := o.db.Query(ctx, "SELECT payload FROM outbox WHERE fallback IS NOT NULL")
	if err != nil {
		return false, fmt.Errorf("read outbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&payload); err != nil {
			return false, fmt.Errorf("read outbox: %w", err)
		}
		if _, err := o.st.unkept.open("outbox", payload, nil); err == nil {
			return true, nil
		}
	}
	return false, rows.Err()
}

// QueuedBefore says whether an entry for one of dests was queued before
// the entry outID.
func (o Outbox) QueuedBefore(ctx context.Context, outID int64, dests ...Destination) (bool, error) {
	for _, d := range dests {
		var before bool
		err := o.db.QueryRow(ctx, "SELECT EXISTS(SELECT 1 FROM outbox WHERE room_id=$1 AND dm_user=$2 AND id<$3)",
			d.Room, d.DMUser, outID).Scan(&before)
		if err != nil {
			return false, fmt.Errorf("read outbox: %w", err)
		}
		if before {
			return true, nil
		}
	}
	return false, nil
}

// ForRoom lists the entries queued for room, oldest first.
func (o Outbox) ForRoom(ctx context.Context, room id.RoomID) ([]*Outgoing, error) {
	rows, err := o.db.Query(ctx,
		"SELECT "+outboxColumns+" FROM outbox WHERE room_id=$1 AND dm_user='' ORDER BY id", room)
	list, err := dbutil.NewRowIterWithError(rows, o.scanOutgoing, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return list, nil
}

// Readdress sends the entry outID to user's direct room instead of the room
// it was queued for, with payload (sealed again) instead of what it had.
func (o Outbox) Readdress(ctx context.Context, outID int64, user id.UserID, payload json.RawMessage) error {
	// An unkept entry stays unkept.
	var unkept bool
	if err := o.db.QueryRow(ctx, "SELECT fallback IS NOT NULL FROM outbox WHERE id=$1", outID).Scan(&unkept); err != nil {
		return fmt.Errorf("readdress queued message: %w", err)
	}
	sealed, err := o.payloadSealer(unkept).seal("outbox", payload, nil)
	if err != nil {
		return fmt.Errorf("readdress queued message: %w", err)
	}
	_, err = o.db.Exec(ctx, "UPDATE outbox SET room_id='', dm_user=$2, payload=$3 WHERE id=$1", outID, user, sealed)
	if err != nil {
		return fmt.Errorf("readdress queued message: %w", err)
	}
	return nil
}

// Done removes a sent entry.
func (o Outbox) Done(ctx context.Context, outID int64) error {
	_, err := o.db.Exec(ctx, "DELETE FROM outbox WHERE id=$1", outID)
	if err != nil {
		return fmt.Errorf("remove sent message: %w", err)
	}
	return nil
}

// Failed records a failed attempt; the error text must not contain message
// content (it is an HTTP status or similar).
func (o Outbox) Failed(ctx context.Context, outID int64, reason string) error {
	_, err := o.db.Exec(ctx, "UPDATE outbox SET attempts=attempts+1, last_error=$2 WHERE id=$1", outID, reason)
	if err != nil {
		return fmt.Errorf("record send failure: %w", err)
	}
	return nil
}

// Get returns one queued entry.
func (o Outbox) Get(ctx context.Context, outID int64) (*Outgoing, bool, error) {
	out, err := o.scanOutgoing(o.db.QueryRow(ctx,
		"SELECT "+outboxColumns+" FROM outbox WHERE id=$1", outID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("read outbox entry: %w", err)
	}
	return out, true, nil
}
