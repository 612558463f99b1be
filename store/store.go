// Package store keeps all of Quorum's state in one SQLite file (modernc.org/sqlite,
// pure Go), beside mautrix's crypto and state stores in the same file.
//
// Schema history is a list of numbered files in upgrades/, run by dbutil's
// upgrade table under the version table "quorum_version". Every method takes a
// context first; inside Store.Tx the context carries the transaction, so the
// rules in package commands can make several changes atomically without
// knowing any SQL.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"

	"go.mau.fi/util/dbutil"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed upgrades/*.sql
var upgrades embed.FS

var upgradeTable = dbutil.BuildUpgradeTable().WithFSPath(upgrades, "upgrades").Finish()

// Store is the bot's state. Its methods named after tables (Outbox, Rooms, ...)
// group the queries, so that call sites read as st.Outbox().Add(ctx, ...).
type Store struct {
	// DB is the shared database; the crypto helper builds its own stores on it.
	DB *dbutil.Database
	// ID is a random value fixed when the database was created. It makes
	// transaction IDs of outgoing events unique per installation and stable
	// across restarts, so that the homeserver drops a resend after a crash.
	ID string

	hot *prepared
}

// DSN is the modernc connection string with the pragmas mautrix's stores
// expect (foreign keys, WAL, a busy timeout) and immediate transactions, so
// that two writers never deadlock on a lock upgrade.
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	// Deleted rows (a sent receipt, an expired DM) are overwritten, not left
	// in free pages for whoever copies the file.
	q.Add("_pragma", "secure_delete(1)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode() // a path may contain ? and #
}

// Open opens (creating with mode 0600 if needed) and upgrades the database.
func Open(ctx context.Context, path string) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	_ = f.Close()
	// An existing file keeps its mode; make sure it is private anyway.
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	raw, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	db, err := dbutil.NewWithDB(raw, "sqlite")
	if err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	s := &Store{DB: db, hot: &prepared{db: db}}
	if err := s.upgrade(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	if err := s.loadID(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) upgrade(ctx context.Context) error {
	own := s.DB.Child("quorum_version", upgradeTable, nil)
	if err := own.Upgrade(ctx); err != nil {
		return fmt.Errorf("upgrade database: %w", err)
	}
	return nil
}

func (s *Store) loadID(ctx context.Context) error {
	id, err := s.Meta().Get(ctx, "id")
	if err == nil && id == "" {
		buf := make([]byte, 8)
		_, _ = rand.Read(buf)
		id = hex.EncodeToString(buf)
		err = s.Meta().Set(ctx, "id", id)
	}
	s.ID = id
	return err
}

// Close closes the database.
func (s *Store) Close() error {
	s.hot.close()
	return s.DB.Close()
}

// Tx runs fn in one immediate transaction: all of its changes happen, or none.
// Nested calls join the outer transaction.
func (s *Store) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.DB.DoTxn(ctx, nil, fn)
}
