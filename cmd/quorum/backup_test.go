package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"quorum/record"
	"quorum/store"
)

// botState makes a database with a decision in the record, a stand-in for
// the crypto store and a login session, and a config pointing at it.
func botState(t *testing.T, dir string) (cfg string, head record.Entry) {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(dir, "quorum.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if head, err = st.Records().Append(ctx, "!r:x", "motion.result", map[string]any{"id": 1, "status": "carried"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE TABLE crypto_account (pickle TEXT)",
		"INSERT INTO crypto_account VALUES ('olm account')",
		"INSERT INTO meta (key, value) VALUES ('access_token', 'syt_secret_token')",
	} {
		if _, err := st.DB.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	cfg = filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("homeserver: http://127.0.0.1:1\nuser_id: '@quorum:x'\npassword: pw\ndatabase: %s\n", db)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, head
}

// dump reads a restored database: its record head, and whether it holds the
// crypto store and the session.
func dump(t *testing.T, path string) (head string, crypto, token bool) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("SELECT hash FROM record_entries ORDER BY seq DESC LIMIT 1").Scan(&head); err != nil {
		t.Fatal(err)
	}
	var n int
	_ = db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE name='crypto_account'").Scan(&n)
	var m int
	_ = db.QueryRow("SELECT COUNT(*) FROM meta WHERE key='access_token'").Scan(&m)
	return head, n > 0, m > 0
}

func TestExportImport(t *testing.T) {
	dir := t.TempDir()
	cfg, head := botState(t, dir)
	alice, _ := keyPair(t, dir, "alice")
	bob, bobSecret := keyPair(t, dir, "bob")
	_, carolSecret := keyPair(t, dir, "carol")
	backup := filepath.Join(dir, "backup.pgp")

	out, errOut, code := quorum(t, "export", "--config", cfg, "--to", alice, "--to", bob, "-o", backup)
	if code != 0 || !strings.Contains(out, "encrypted to 2 key(s)") {
		t.Fatalf("export: %d %q %q", code, out, errOut)
	}
	if info, err := os.Stat(backup); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup: %v %v", info, err)
	}

	restored := filepath.Join(dir, "restored.db")
	_, errOut, code = quorumWith(t, []string{"QUORUM_KEY_PASSPHRASE=pass bob"}, "import", backup, "--key", bobSecret, "--database", restored)
	if code != 0 {
		t.Fatalf("import with bob's key: %d %q", code, errOut)
	}
	got, crypto, token := dump(t, restored)
	if got != head.Hash || crypto || token {
		t.Errorf("restored head %s (want %s), crypto store %v, session %v: want the record without the secrets", got, head.Hash, crypto, token)
	}

	// Someone the backup is not for gets a clear error and no file.
	other := filepath.Join(dir, "other.db")
	_, errOut, code = quorumWith(t, []string{"QUORUM_KEY_PASSPHRASE=pass carol"}, "import", backup, "--key", carolSecret, "--database", other)
	if code == 0 || !strings.Contains(errOut, "not encrypted to") {
		t.Errorf("import with carol's key: %d %q", code, errOut)
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("a failed import left a database behind")
	}
	// An existing file is never overwritten.
	if _, errOut, code = quorumWith(t, []string{"QUORUM_KEY_PASSPHRASE=pass bob"}, "import", backup, "--key", bobSecret, "--database", restored); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Errorf("import over an existing file: %d %q", code, errOut)
	}

	// --include-crypto keeps everything, with a warning.
	full := filepath.Join(dir, "full.pgp")
	_, errOut, code = quorum(t, "export", "--config", cfg, "--to", bob, "-o", full, "--include-crypto")
	if code != 0 || !strings.Contains(errOut, "Warning") {
		t.Fatalf("export --include-crypto: %d %q", code, errOut)
	}
	fullDB := filepath.Join(dir, "full.db")
	if _, errOut, code = quorumWith(t, []string{"QUORUM_KEY_PASSPHRASE=pass bob"}, "import", full, "--key", bobSecret, "--database", fullDB); code != 0 {
		t.Fatalf("import full: %d %q", code, errOut)
	}
	if _, crypto, token := dump(t, fullDB); !crypto || !token {
		t.Errorf("--include-crypto lost the crypto store (%v) or session (%v)", crypto, token)
	}
}
