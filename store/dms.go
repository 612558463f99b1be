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

// DMReplaced says why a member's previous direct room was left, which they
// are told in the next one.
type DMReplaced int

const (
	DMNotReplaced DMReplaced = iota // nothing to tell
	DMIntruded                      // someone else got in
	DMMoved                         // it let the member invite (made before direct rooms were kept to two)
)

// Pending says what is left to do about user's direct room: token is the
// marker of a creation begun ("" if none), why what the member is still to
// be told about their previous direct room.
func (d DMs) Pending(ctx context.Context, user id.UserID) (token string, why DMReplaced, err error) {
	err = d.db.QueryRow(ctx, "SELECT token, explain FROM dm_pending WHERE user_id=$1", user).Scan(&token, &why)
	if errors.Is(err, sql.ErrNoRows) {
		return "", DMNotReplaced, nil
	} else if err != nil {
		return "", DMNotReplaced, fmt.Errorf("read pending direct room: %w", err)
	}
	return token, why, nil
}

// Creating records that a direct room with user is about to be created with
// token in its state, before the request is made.
func (d DMs) Creating(ctx context.Context, user id.UserID, token string) error {
	_, err := d.db.Exec(ctx, `
		INSERT INTO dm_pending (user_id, token) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET token=excluded.token`, user, token)
	if err != nil {
		return fmt.Errorf("record direct room creation: %w", err)
	}
	return nil
}

// Created records room as the direct room with user, the creation begun
// with Creating finished (an explanation still owed stays owed).
func (d DMs) Created(ctx context.Context, user id.UserID, room id.RoomID) error {
	return d.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := d.Set(ctx, user, room); err != nil {
			return err
		}
		if _, err := d.db.Exec(ctx, "UPDATE dm_pending SET token='' WHERE user_id=$1", user); err != nil {
			return fmt.Errorf("record direct room: %w", err)
		}
		_, err := d.db.Exec(ctx, "DELETE FROM dm_pending WHERE user_id=$1 AND token='' AND explain=0", user)
		return err
	})
}

// Replaced forgets room as user's direct room (the bot has left it) and
// notes what the member is to be told why in the next one.
func (d DMs) Replaced(ctx context.Context, user id.UserID, room id.RoomID, why DMReplaced) error {
	return d.db.DoTxn(ctx, nil, func(ctx context.Context) error {
		if err := d.Forget(ctx, room); err != nil {
			return err
		}
		_, err := d.db.Exec(ctx, `
			INSERT INTO dm_pending (user_id, explain) VALUES ($1, $2)
			ON CONFLICT (user_id) DO UPDATE SET explain=excluded.explain`, user, why)
		if err != nil {
			return fmt.Errorf("forget direct room: %w", err)
		}
		return nil
	})
}

// Explained records that user was told why their previous direct room was
// left.
func (d DMs) Explained(ctx context.Context, user id.UserID) error {
	if _, err := d.db.Exec(ctx, "UPDATE dm_pending SET explain=0 WHERE user_id=$1", user); err != nil {
		return fmt.Errorf("record explanation: %w", err)
	}
	_, err := d.db.Exec(ctx, "DELETE FROM dm_pending WHERE user_id=$1 AND token='' AND explain=0", user)
	if err != nil {
		return fmt.Errorf("record explanation: %w", err)
	}
	return nil
}

// Rooms lists every recorded direct room.
func (d DMs) Rooms(ctx context.Context) (map[id.RoomID]bool, error) {
	rows, err := d.db.Query(ctx, "SELECT room_id FROM dm_rooms")
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (r id.RoomID, err error) {
		return r, row.Scan(&r)
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read direct rooms: %w", err)
	}
	out := make(map[id.RoomID]bool, len(list))
	for _, r := range list {
		out[r] = true
	}
	return out, nil
}
