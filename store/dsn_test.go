package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestOpenPathWithURICharacters: the database is the file named, even when
// its path has characters that mean something in a URI (fuzz tests' temp
// directories have "#"), and it is private.
func TestOpenPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#b?c %d")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "quorum.db")
	st, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	id := st.ID
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Size() == 0 || info.Mode().Perm() != 0o600 {
		t.Fatalf("the named file is not the database: %v, %v", info, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(dir)); len(entries) != 1 {
		t.Errorf("files created beside the named one: %v", entries)
	}
	st, err = Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.ID != id {
		t.Errorf("reopening found another database (ID %s, was %s)", st.ID, id)
	}
}
