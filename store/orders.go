package store

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// StandingOrders is the standing_orders table: the rules of procedure a
// room changed by a vote.
type StandingOrders struct{ db *dbutil.Database }

// StandingOrders returns the standing orders table.
func (s *Store) StandingOrders() StandingOrders { return StandingOrders{s.DB} }

// Of returns the rules room changed, by name.
func (t StandingOrders) Of(ctx context.Context, room id.RoomID) (map[string]string, error) {
	rows, err := t.db.Query(ctx, "SELECT rule, value FROM standing_orders WHERE room_id=$1", room)
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (kv [2]string, err error) {
		err = row.Scan(&kv[0], &kv[1])
		return
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read standing orders: %w", err)
	}
	out := make(map[string]string, len(list))
	for _, kv := range list {
		out[kv[0]] = kv[1]
	}
	return out, nil
}

// Set records that motion changed room's rule to value at at.
func (t StandingOrders) Set(ctx context.Context, room id.RoomID, rule, value string, motion int64, at time.Time) error {
	_, err := t.db.Exec(ctx, `INSERT INTO standing_orders (room_id, rule, value, changed_at, motion_id) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (room_id, rule) DO UPDATE SET value=excluded.value, changed_at=excluded.changed_at, motion_id=excluded.motion_id`,
		room, rule, value, at.UnixMilli(), motion)
	if err != nil {
		return fmt.Errorf("set standing order: %w", err)
	}
	return nil
}
