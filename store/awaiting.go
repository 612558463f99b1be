package store

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// AwaitingKeys lists encrypted events whose room key had not arrived when
// they were synced (see upgrades/07-awaiting-keys.sql).
type AwaitingKeys struct{ db *dbutil.Database }

// AwaitingKeys returns the table of events awaiting their key.
func (s *Store) AwaitingKeys() AwaitingKeys { return AwaitingKeys{s.DB} }

// Awaiting is an event awaiting its key.
type Awaiting struct {
	Event   id.EventID
	Room    id.RoomID
	NotedAt time.Time
}

// Note records that event in room awaits its key (again: no change).
func (a AwaitingKeys) Note(ctx context.Context, room id.RoomID, event id.EventID, at time.Time) error {
	_, err := a.db.Exec(ctx, "INSERT INTO awaiting_keys (event_id, room_id, noted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		event, room, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("note event awaiting its key: %w", err)
	}
	return nil
}

// Done forgets event: it was decrypted and handled, or given up on.
func (a AwaitingKeys) Done(ctx context.Context, event id.EventID) error {
	if _, err := a.db.Exec(ctx, "DELETE FROM awaiting_keys WHERE event_id=$1", event); err != nil {
		return fmt.Errorf("forget event awaiting its key: %w", err)
	}
	return nil
}

// List returns the events still awaiting their key, oldest first.
func (a AwaitingKeys) List(ctx context.Context) ([]*Awaiting, error) {
	return queryList(ctx, a.db, scanAwaiting, "events awaiting their key",
		"SELECT event_id, room_id, noted_at FROM awaiting_keys ORDER BY noted_at, event_id")
}

func scanAwaiting(row dbutil.Scannable) (*Awaiting, error) {
	var w Awaiting
	var at int64
	if err := row.Scan(&w.Event, &w.Room, &at); err != nil {
		return nil, err
	}
	w.NotedAt = time.UnixMilli(at)
	return &w, nil
}
