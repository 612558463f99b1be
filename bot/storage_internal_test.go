package bot

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"quorum/store"
)

// TestStorageProblem classifies real errors from SQLite (modernc): a write
// to a database opened read-only, a write beyond the database's size limit
// (SQLite's "disk is full"), and errors that are neither.
func TestStorageProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.db")
	rw, err := sql.Open("sqlite", store.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	rw.SetMaxOpenConns(1)
	if _, err := rw.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)"); err != nil {
		t.Fatal(err)
	}
	ro, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, readOnly := ro.Exec("INSERT INTO t (data) VALUES (x'00')")

	if _, err := rw.Exec("PRAGMA max_page_count = 8"); err != nil {
		t.Fatal(err)
	}
	_, full := rw.Exec("INSERT INTO t (data) VALUES (zeroblob(100000))")
	_, duplicate := rw.Exec("INSERT INTO t (id) VALUES (1), (1)")

	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"read-only", readOnly, "my database is read-only"},
		{"read-only, wrapped", fmt.Errorf("commit: %w", readOnly), "my database is read-only"},
		{"full", full, "the server's disk is full"},
		{"full, flattened to text", errors.New("record: " + fmt.Sprint(full)), "the server's disk is full"},
		{"a constraint", duplicate, ""},
		{"no error", nil, ""},
		{"another error", errors.New("connection refused"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want != "" && tc.err == nil {
				t.Fatalf("SQLite gave no error to classify")
			}
			if got := storageProblem(tc.err); got != tc.want {
				t.Errorf("storageProblem(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}
