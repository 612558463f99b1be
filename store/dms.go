package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// DMs remembers the encrypted direct room shared with each member, so that
// one is created on first use and reused afterwards.
type DMs struct{ db *dbutil.Database }

// DMs returns the direct rooms table.
func (s *Store) DMs() DMs { return DMs{s.DB} }

// Room returns the direct room with user, if there is one.
func (d DMs) Room(ctx context.Context, user id.UserID) (id.RoomID, bool, error) {
	var room id.RoomID
	err := d.db.QueryRow(ctx, "SELECT room_id FROM dm_rooms WHERE user_id=$1", user).Scan(&room)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("read direct room: %w", err)
	}
	return room, true, nil
}

// User returns whose direct room room is, if it is one.
func (d DMs) User(ctx context.Context, room id.RoomID) (id.UserID, bool, error) {
	var user id.UserID
	err := d.db.QueryRow(ctx, "SELECT user_id FROM dm_rooms WHERE room_id=$1", room).Scan(&user)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("read direct room: %w", err)
	}
	return user, true, nil
}

// Set records room as the direct room with user.
func (d DMs) Set(ctx context.Context, user id.UserID, room id.RoomID) error {
	_, err := d.db.Exec(ctx, `
		INSERT INTO dm_rooms (user_id, room_id) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET room_id=excluded.room_id`, user, room)
	if err != nil {
		return fmt.Errorf("record direct room: %w", err)
	}
	// A direct room keeps no sync position (Rooms.SetSyncedUntil); one
	// recorded before the room was known as direct goes.
	if _, err := d.db.Exec(ctx, "UPDATE rooms SET synced_until=0 WHERE room_id=$1", room); err != nil {
		return fmt.Errorf("record direct room: %w", err)
	}
	return nil
}

// Forget drops room (the member left it); the next DM creates a new one.
func (d DMs) Forget(ctx context.Context, room id.RoomID) error {
	_, err := d.db.Exec(ctx, "DELETE FROM dm_rooms WHERE room_id=$1", room)
	if err != nil {
		return fmt.Errorf("forget direct room: %w", err)
	}
	return nil
}
