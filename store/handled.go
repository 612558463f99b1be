package store

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Handled remembers which events the bot has acted on. Events of a member's
// direct room are kept apart, in handled_private, under a keyed hash of
// their ID and the day: a copy of the database does not tell which direct
// messages came, from whom, or in what order.
type Handled struct {
	db *dbutil.Database
	st *Store
}

// Handled returns the handled-events table.
func (s *Store) Handled() Handled { return Handled{s.DB, s} }

// Mark records that evt is handled and reports whether it was new. Call it in
// the transaction that applies the event's effects: then an event is applied
// exactly once, whatever crashes in between. An event of a direct room is
// marked as MarkPrivate does.
func (h Handled) Mark(ctx context.Context, evt id.EventID, room id.RoomID, now time.Time) (bool, error) {
	var direct int
	if err := h.db.QueryRow(ctx, "SELECT COUNT(*) FROM dm_rooms WHERE room_id=$1", room).Scan(&direct); err != nil {
		return false, fmt.Errorf("mark event handled: %w", err)
	}
	if direct > 0 {
		return h.MarkPrivate(ctx, evt, now)
	}
	res, err := h.db.Exec(ctx,
		"INSERT INTO handled (event_id, room_id, handled_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		evt, room, now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("mark event handled: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// MarkPrivate is Mark for an event of a member's direct room: it keeps a
// keyed hash of the event's ID and the day, nothing else.
func (h Handled) MarkPrivate(ctx context.Context, evt id.EventID, now time.Time) (bool, error) {
	hash, err := h.st.seal.mac("handled event", []byte(evt))
	if err != nil {
		return false, fmt.Errorf("mark event handled: %w", err)
	}
	res, err := h.db.Exec(ctx, "INSERT INTO handled_private (hash, day) VALUES ($1, $2) ON CONFLICT DO NOTHING", hash, day(now))
	if err != nil {
		return false, fmt.Errorf("mark event handled: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Seen says whether evt was handled, wherever it came from.
func (h Handled) Seen(ctx context.Context, evt id.EventID) (bool, error) {
	hash, err := h.st.seal.mac("handled event", []byte(evt))
	if err != nil {
		return false, err
	}
	var n int
	err = h.db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM handled WHERE event_id=$1) + (SELECT COUNT(*) FROM handled_private WHERE hash=$2)`,
		evt, hash).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read handled events: %w", err)
	}
	return n > 0, nil
}

// day is the number of whole days from 1970-01-01 UTC to t.
func day(t time.Time) int64 { return t.Unix() / 86400 }

// Prune forgets events handled before cutoff (private ones by the day before
// cutoff's). The homeserver does not redeliver events that old, so the
// tables need not grow forever.
func (h Handled) Prune(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := h.db.Exec(ctx, "DELETE FROM handled WHERE handled_at < $1", cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("prune handled events: %w", err)
	}
	n, _ := res.RowsAffected()
	res, err = h.db.Exec(ctx, "DELETE FROM handled_private WHERE day < $1", day(cutoff))
	if err != nil {
		return 0, fmt.Errorf("prune handled events: %w", err)
	}
	m, _ := res.RowsAffected()
	return n + m, nil
}
