package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"maunium.net/go/mautrix/id"
)

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
