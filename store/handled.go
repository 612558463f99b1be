package store

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Handled remembers which events the bot has acted on.
type Handled struct{ db *dbutil.Database }

// Handled returns the handled-events table.
func (s *Store) Handled() Handled { return Handled{s.DB} }

// Mark records that evt is handled and reports whether it was new. Call it in
// the transaction that applies the event's effects: then an event is applied
// exactly once, whatever crashes in between.
func (h Handled) Mark(ctx context.Context, evt id.EventID, room id.RoomID, now time.Time) (bool, error) {
	res, err := h.db.Exec(ctx,
		"INSERT INTO handled (event_id, room_id, handled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		evt, room, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("mark event handled: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Prune forgets events handled before cutoff. The homeserver does not redeliver
// events that old, so the table need not grow forever.
func (h Handled) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := h.db.Exec(ctx, "DELETE FROM handled WHERE handled_at < $1", cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune handled events: %w", err)
	}
	return res.RowsAffected()
}
