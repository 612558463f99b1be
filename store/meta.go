package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.mau.fi/util/dbutil"
)

// Meta holds single values of the bot's own bookkeeping (sync token, filter).
type Meta struct{ db *dbutil.Database }

// Meta returns the key-value table.
func (s *Store) Meta() Meta { return Meta{s.DB} }

// Get returns the value of key, or "" if unset.
func (m Meta) Get(ctx context.Context, key string) (string, error) {
	var v string
	err := m.db.QueryRow(ctx, "SELECT value FROM meta WHERE key=$1", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	return v, nil
}

// Set stores value under key.
func (m Meta) Set(ctx context.Context, key, value string) error {
	_, err := m.db.Exec(ctx, `
		INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value=excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}
