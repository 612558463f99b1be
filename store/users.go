package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Users keeps per-member preferences.
type Users struct{ db *dbutil.Database }

// Users returns the preferences table.
func (s *Store) Users() Users { return Users{s.DB} }

// Timezone returns the IANA zone user chose with !tz, or "".
func (u Users) Timezone(ctx context.Context, user id.UserID) (string, error) {
	return u.get(ctx, user, "timezone")
}

// SetTimezone stores user's zone.
func (u Users) SetTimezone(ctx context.Context, user id.UserID, tz string) error {
	return u.set(ctx, user, "timezone", tz)
}

// Language returns the language user chose with !lang in their direct
// chat, or "".
func (u Users) Language(ctx context.Context, user id.UserID) (string, error) {
	return u.get(ctx, user, "language")
}

// SetLanguage stores user's language ("" forgets it).
func (u Users) SetLanguage(ctx context.Context, user id.UserID, lang string) error {
	return u.set(ctx, user, "language", lang)
}

// RoomLanguage returns the language of the room that last caused a direct
// message to user, or "".
func (u Users) RoomLanguage(ctx context.Context, user id.UserID) (string, error) {
	return u.get(ctx, user, "room_language")
}

// SetRoomLanguage stores the language of the room that caused a direct
// message to user.
func (u Users) SetRoomLanguage(ctx context.Context, user id.UserID, lang string) error {
	return u.set(ctx, user, "room_language", lang)
}

// get reads one of user's preferences: column is one of the constants
// above, never input.
func (u Users) get(ctx context.Context, user id.UserID, column string) (string, error) {
	var value string
	err := u.db.QueryRow(ctx, "SELECT "+column+" FROM users WHERE user_id=$1", user).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read %s: %w", column, err)
	}
	return value, nil
}

// set stores one of user's preferences (see get).
func (u Users) set(ctx context.Context, user id.UserID, column, value string) error {
	_, err := u.db.Exec(ctx, "INSERT INTO users (user_id, "+column+") VALUES ($1, $2) "+
		"ON CONFLICT (user_id) DO UPDATE SET "+column+"=excluded."+column, user, value)
	if err != nil {
		return fmt.Errorf("store %s: %w", column, err)
	}
	return nil
}
