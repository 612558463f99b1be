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

// keyPair makes an OpenPGP key and writes its public and secret halves.
func keyPair(t *testing.T, dir, name string) (pub, sec string) {
	t.Helper()
	armored, err := record.GenerateKey(name, name+"@example.org", "pass "+name, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := record.LoadKey(armored, "pass "+name)
	if err != nil {
		t.Fatal(err)
	}
	public, err := key.ArmoredPublic()
	if err != nil {
		t.Fatal(err)
	}
	pub, sec = filepath.Join(dir, name+".asc"), filepath.Join(dir, name+"-secret.asc")
	if err := os.WriteFile(pub, public, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sec, armored, 0o600); err != nil {
		t.Fatal(err)
	}
	return pub, sec
}

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

func TestVerifyCommand(t *testing.T) {
	dir := t.TempDir()
	pub, sec := keyPair(t, dir, "bot")
	armored, err := os.ReadFile(sec)
	if err != nil {
		t.Fatal(err)
	}
	key, err := record.LoadKey(armored, "pass bot")
	if err != nil {
		t.Fatal(err)
	}
	var entries []record.Entry
	var prev *record.Entry
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		content, when := map[string]any{"id": i + 1, "text": fmt.Sprintf("Decision %d", i+1)}, at.Add(time.Duration(i)*time.Hour)
		var e record.Entry
		if prev == nil {
			e, err = record.Start("!r:x", "motion.result", content, when)
		} else {
			e, err = record.Next(prev, "motion.result", content, when)
		}
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
		prev = &entries[len(entries)-1]
	}
	doc := record.RenderMinutes(record.Minutes{Room: "!r:x", From: at.Add(-time.Hour), To: at.Add(24 * time.Hour), Entries: entries, Generated: at.Add(25 * time.Hour)}, nil)
	signed, err := key.ClearSign(doc)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "minutes.md")
	if err := os.WriteFile(good, signed, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := quorum(t, "verify", good, "--key", pub)
	if code != 0 || !strings.Contains(out, "verifies") || !strings.Contains(out, "✓") {
		t.Fatalf("verify good minutes: %d %q %q", code, out, errOut)
	}
	tampered := filepath.Join(dir, "tampered.md")
	if err := os.WriteFile(tampered, []byte(strings.Replace(string(signed), "Decision 2", "Decision X", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := quorum(t, "verify", tampered, "--key", pub); code != 1 || !strings.Contains(errOut, "does NOT verify") {
		t.Errorf("verify tampered minutes: %d %q", code, errOut)
	}
	if _, _, code := quorum(t, "verify", good); code != 2 {
		t.Errorf("verify without --key: exit %d, want 2", code)
	}
}
