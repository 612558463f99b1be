package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"maunium.net/go/mautrix/id"
)

// Language returns the language user chose with !lang in their direct
// chat, or "".
func (u Users) Language(ctx context.Context, user id.UserID) (string, error) {
	var lang string
	err := u.db.QueryRow(ctx, "SELECT language FROM users WHERE user_id=$1", user).Scan(&lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read language: %w", err)
	}
	return lang, nil
}

// SetLanguage stores user's language ("" forgets it).
func (u Users) SetLanguage(ctx context.Context, user id.UserID, lang string) error {
	_, err := u.db.Exec(ctx, `
		INSERT INTO users (user_id, language) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET language=excluded.language`, user, lang)
	if err != nil {
		return fmt.Errorf("store language: %w", err)
	}
	return nil
}

// Language returns the language a moderator set for room with !lang, or
// "". It is kept when the bot leaves the room.
func (r Rooms) Language(ctx context.Context, room id.RoomID) (string, error) {
	var lang string
	err := r.db.QueryRow(ctx, "SELECT language FROM room_languages WHERE room_id=$1", room).Scan(&lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read room language: %w", err)
	}
	return lang, nil
}

// SetLanguage stores room's language ("" goes back to the configured one).
func (r Rooms) SetLanguage(ctx context.Context, room id.RoomID, lang string) error {
	var err error
	if lang == "" {
		_, err = r.db.Exec(ctx, "DELETE FROM room_languages WHERE room_id=$1", room)
	} else {
		_, err = r.db.Exec(ctx, `
			INSERT INTO room_languages (room_id, language) VALUES ($1, $2)
			ON CONFLICT (room_id) DO UPDATE SET language=excluded.language`, room, lang)
	}
	if err != nil {
		return fmt.Errorf("store room language: %w", err)
	}
	return nil
}

// RoomLanguage returns the language of the room that last caused a direct
// message to user, or "".
func (u Users) RoomLanguage(ctx context.Context, user id.UserID) (string, error) {
	var lang string
	err := u.db.QueryRow(ctx, "SELECT room_language FROM users WHERE user_id=$1", user).Scan(&lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read room language: %w", err)
	}
	return lang, nil
}

// SetRoomLanguage stores the language of the room that caused a direct
// message to user.
func (u Users) SetRoomLanguage(ctx context.Context, user id.UserID, lang string) error {
	_, err := u.db.Exec(ctx, `
		INSERT INTO users (user_id, room_language) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET room_language=excluded.room_language`, user, lang)
	if err != nil {
		return fmt.Errorf("store room language: %w", err)
	}
	return nil
}
