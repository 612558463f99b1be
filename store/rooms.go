package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Rooms records the rooms the bot has joined.
type Rooms struct{ db *dbutil.Database }

// Rooms returns the rooms table.
func (s *Store) Rooms() Rooms { return Rooms{s.DB} }

// Joined records that the bot joined room at the given time. A later join
// (after a leave) moves the time forward; an earlier report (the join event
// seen after a provisional local time) corrects it.
func (r Rooms) Joined(ctx context.Context, room id.RoomID, at time.Time) error {
	_, err := r.db.Exec(ctx, `
		INSERT INTO rooms (room_id, joined_at) VALUES ($1, $2)
		ON CONFLICT (room_id) DO UPDATE SET joined_at=excluded.joined_at`,
		room, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("record join: %w", err)
	}
	return nil
}

// JoinedAt returns when the bot joined room, and false if it does not know
// the room.
func (r Rooms) JoinedAt(ctx context.Context, room id.RoomID) (time.Time, bool, error) {
	var ms int64
	err := r.db.QueryRow(ctx, "SELECT joined_at FROM rooms WHERE room_id=$1", room).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	} else if err != nil {
		return time.Time{}, false, fmt.Errorf("read join time: %w", err)
	}
	return time.UnixMilli(ms), true, nil
}

// Left forgets room.
func (r Rooms) Left(ctx context.Context, room id.RoomID) error {
	_, err := r.db.Exec(ctx, "DELETE FROM rooms WHERE room_id=$1", room)
	if err != nil {
		return fmt.Errorf("record leave: %w", err)
	}
	return nil
}

// MarkWarnedUnencrypted records that the room was told once that the bot only
// works in encrypted rooms. It returns false if it had been told already.
func (r Rooms) MarkWarnedUnencrypted(ctx context.Context, room id.RoomID) (bool, error) {
	res, err := r.db.Exec(ctx, "UPDATE rooms SET warned_unencrypted=1 WHERE room_id=$1 AND warned_unencrypted=0", room)
	if err != nil {
		return false, fmt.Errorf("record warning: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SyncedUntil returns the timestamp of the newest timeline event processed
// in room (zero if none).
func (r Rooms) SyncedUntil(ctx context.Context, room id.RoomID) (time.Time, error) {
	var ms int64
	err := r.db.QueryRow(ctx, "SELECT synced_until FROM rooms WHERE room_id=$1", room).Scan(&ms)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, fmt.Errorf("read sync position: %w", err)
	}
	if ms == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(ms), nil
}

// SetSyncedUntil moves room's sync position forward to at (never back). A
// member's direct room keeps none: its newest event would say when the
// member last wrote (a secret ballot, say); a catch-up there pages back as
// far as events are remembered as handled instead.
func (r Rooms) SetSyncedUntil(ctx context.Context, room id.RoomID, at time.Time) error {
	_, err := r.db.Exec(ctx, `UPDATE rooms SET synced_until=max(synced_until, $2)
		WHERE room_id=$1 AND room_id NOT IN (SELECT room_id FROM dm_rooms)`, room, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("record sync position: %w", err)
	}
	return nil
}

// Undescribed lists the rooms the bot is in, direct rooms aside, whose
// published command descriptions are not those of hash.
func (r Rooms) Undescribed(ctx context.Context, hash string) ([]id.RoomID, error) {
	rows, err := r.db.Query(ctx, `SELECT room_id FROM rooms WHERE commands_hash != $1
		AND room_id NOT IN (SELECT room_id FROM dm_rooms) ORDER BY room_id`, hash)
	if err != nil {
		return nil, fmt.Errorf("list rooms: %w", err)
	}
	defer rows.Close()
	var out []id.RoomID
	for rows.Next() {
		var room id.RoomID
		if err := rows.Scan(&room); err != nil {
			return nil, fmt.Errorf("list rooms: %w", err)
		}
		out = append(out, room)
	}
	return out, rows.Err()
}

// Described records that room has the command descriptions of hash.
func (r Rooms) Described(ctx context.Context, room id.RoomID, hash string) error {
	if _, err := r.db.Exec(ctx, "UPDATE rooms SET commands_hash=$2 WHERE room_id=$1", room, hash); err != nil {
		return fmt.Errorf("record command descriptions: %w", err)
	}
	return nil
}
