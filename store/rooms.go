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
type Rooms struct {
	db *dbutil.Database
	st *Store
}

// Rooms returns the rooms table.
func (s *Store) Rooms() Rooms { return Rooms{s.DB, s} }

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

// Position returns the ID of the newest timeline event the bot processed
// in room ("" if none is recorded: a room new to the bot, a member's direct
// room, or one known from before upgrade 14). A catch-up after a gap pages
// back until it reaches it.
func (r Rooms) Position(ctx context.Context, room id.RoomID) (id.EventID, error) {
	var evt id.EventID
	err := r.db.QueryRow(ctx, "SELECT last_event FROM rooms WHERE room_id=$1", room).Scan(&evt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read sync position: %w", err)
	}
	return evt, nil
}

// SetPosition records evt as the newest timeline event processed in room.
// It is a position in the homeserver's order, not a time: whatever an
// event's origin_server_ts says, the next catch-up stops at evt. A member's
// direct room keeps none: which event was last in it would say when that
// member last wrote (a secret ballot, say); MarkPassedPrivate is its
// stand-in.
func (r Rooms) SetPosition(ctx context.Context, room id.RoomID, evt id.EventID) error {
	_, err := r.db.Exec(ctx, `UPDATE rooms SET last_event=$2
		WHERE room_id=$1 AND room_id NOT IN (SELECT room_id FROM dm_rooms)`, room, evt)
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

// MarkPassedPrivate records that the bot processed a direct room's timeline
// up to evt, the way handled direct events are kept (Handled.MarkPrivate):
// a keyed hash of the ID and the day, in the same table, with no room, no
// order and no time finer than the day, forgotten with them after
// commands.HandledKept. A catch-up in that room stops at it.
func (r Rooms) MarkPassedPrivate(ctx context.Context, room id.RoomID, evt id.EventID, now time.Time) error {
	hash, err := r.st.seal.mac("sync position", []byte(evt))
	if err != nil {
		return fmt.Errorf("record sync position: %w", err)
	}
	if _, err := r.db.Exec(ctx, "INSERT INTO handled_private (hash, day) VALUES ($1, $2) ON CONFLICT DO NOTHING", hash, day(now)); err != nil {
		return fmt.Errorf("record sync position: %w", err)
	}
	// One recorded before the room was known as direct (its first events
	// can be synced before the bot records whose room it is) goes.
	if _, err := r.db.Exec(ctx, "UPDATE rooms SET last_event='' WHERE room_id=$1 AND last_event!=''", room); err != nil {
		return fmt.Errorf("record sync position: %w", err)
	}
	return nil
}

// PassedPrivate says whether MarkPassedPrivate recorded evt (and it is not
// forgotten yet).
func (r Rooms) PassedPrivate(ctx context.Context, evt id.EventID) (bool, error) {
	hash, err := r.st.seal.mac("sync position", []byte(evt))
	if err != nil {
		return false, fmt.Errorf("read sync position: %w", err)
	}
	var n int
	if err := r.db.QueryRow(ctx, "SELECT COUNT(*) FROM handled_private WHERE hash=$1", hash).Scan(&n); err != nil {
		return false, fmt.Errorf("read sync position: %w", err)
	}
	return n > 0, nil
}
