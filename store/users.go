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
	var tz string
	err := u.db.QueryRow(ctx, "SELECT timezone FROM users WHERE user_id=$1", user).Scan(&tz)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read timezone: %w", err)
	}
	return tz, nil
}

// SetTimezone stores user's zone.
func (u Users) SetTimezone(ctx context.Context, user id.UserID, tz string) error {
	_, err := u.db.Exec(ctx, `
		INSERT INTO users (user_id, timezone) VALUES ($1, $2)
		ON CONFLICT (user_id) DO UPDATE SET timezone=excluded.timezone`, user, tz)
	if err != nil {
		return fmt.Errorf("store timezone: %w", err)
	}
	return nil
}
