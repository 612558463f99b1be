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
}

// Outbox is the queue of messages to send. Rules write to it in the same
// transaction as the change they report, so a crash can lose neither; the
// sender deletes an entry once the homeserver accepted it.
type Outbox struct{ db *dbutil.Database }

// Outbox returns the outbox table.
func (s *Store) Outbox() Outbox { return Outbox{s.DB} }

// Add queues o and returns its ID.
func (o Outbox) Add(ctx context.Context, out Outgoing, now time.Time) (int64, error) {
	res, err := o.db.Exec(ctx,
		"INSERT INTO outbox (room_id, dm_user, kind, payload, created_at) VALUES ($1, $2, $3, $4, $5)",
		out.Room, out.DMUser, out.Kind, string(out.Payload), now.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("queue message: %w", err)
	}
	return res.LastInsertId()
}

func scanOutgoing(row dbutil.Scannable) (*Outgoing, error) {
	var out Outgoing
	var payload string
	err := row.Scan(&out.ID, &out.Room, &out.DMUser, &out.Kind, &payload, &out.Attempts)
	if err != nil {
		return nil, err
	}
	out.Payload = json.RawMessage(payload)
	return &out, nil
}

// Pending lists up to limit queued entries, oldest first.
func (o Outbox) Pending(ctx context.Context, limit int) ([]*Outgoing, error) {
	rows, err := o.db.Query(ctx,
		"SELECT id, room_id, dm_user, kind, payload, attempts FROM outbox ORDER BY id LIMIT $1", limit)
	list, err := dbutil.NewRowIterWithError(rows, scanOutgoing, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return list, nil
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
	out, err := scanOutgoing(o.db.QueryRow(ctx,
		"SELECT id, room_id, dm_user, kind, payload, attempts FROM outbox WHERE id=$1", outID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("read outbox entry: %w", err)
	}
	return out, true, nil
}
