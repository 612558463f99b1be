package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"quorum/record"
)

// botState makes a database as the bot leaves it (every schema it makes), with
// a decision in the record, an account in the crypto store, a login session
// and the bot's OpenPGP key with its passphrase file, and a config pointing
// at it. It returns the bot's key too.
func botState(t *testing.T, dir string) (cfg string, head record.Entry, botKey *record.Key) {
	t.Helper()
	ctx := context.Background()
	db := filepath.Join(dir, "quorum.db")
	st, err := createBotDatabase(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if head, err = st.Records().Append(ctx, "!r:x", "motion.result", map[string]any{"id": 1, "status": "carried"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	pass := "generated passphrase of " + dir
	armored, err := record.GenerateKey("Quorum @quorum:x", "", pass, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if botKey, err = record.LoadKey(armored, pass); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db+".pgp-passphrase", []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO crypto_account (account_id, device_id, shared, sync_token, account) VALUES ('', 'DEVICE', true, '', 'olm account')",
		"INSERT INTO meta (key, value) VALUES ('access_token', 'syt_secret_token')",
	} {
		if _, err := st.DB.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Meta().Set(ctx, "pgp_key", string(armored)); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "config.yaml")
	yaml := fmt.Sprintf("homeserver: http://127.0.0.1:1\nuser_id: '@quorum:x'\npassword: pw\ndatabase: %s\n", db)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg, head, botKey
}

// publicKeyFile writes k's public key, as a member saves it from !key.
func publicKeyFile(t *testing.T, dir, name string, k *record.Key) string {
	t.Helper()
	pub, err := k.ArmoredPublic()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pub, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// leftovers lists the temporary files a write left in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") || strings.HasPrefix(e.Name(), ".quorum-") {
			found = append(found, e.Name())
		}
	}
	return found
}

// dump reads a restored database: its record head, and whether it holds the
// crypto store and the session.
func dump(t *testing.T, path string) (head string, crypto, token bool) {
	t.Helper()
	db, err := sql.Open("sqlite", immutableDSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow("SELECT hash FROM record_entries ORDER BY seq DESC LIMIT 1").Scan(&head); err != nil && !errors.Is(err, sql.ErrNoRows) {
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
	cfg, head, botKey := botState(t, dir)
	botPub := publicKeyFile(t, dir, "quorum-key.asc", botKey)
	alice, _ := keyPair(t, dir, "alice")
	bob, bobSecret := keyPair(t, dir, "bob")
	_, carolSecret := keyPair(t, dir, "carol")
	backup := filepath.Join(dir, "backup.pgp")
	asBob := []string{"QUORUM_KEY_PASSPHRASE=pass bob"}

	out, errOut, code := quorum(t, "export", "--config", cfg, "--to", alice, "--to", bob, "-o", backup)
	if code != 0 || !strings.Contains(out, "encrypted to 2 key(s), signed by the bot's key "+botKey.Fingerprint()) {
		t.Fatalf("export: %d %q %q", code, out, errOut)
	}
	if info, err := os.Stat(backup); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup: %v %v", info, err)
	}

	restored := filepath.Join(dir, "restored.db")
	out, errOut, code = quorumWith(t, asBob, "import", backup, "--key", bobSecret, "--signed-by", botPub, "--database", restored)
	if code != 0 || !strings.Contains(out, "signed by Quorum @quorum:x ("+botKey.Fingerprint()+") on ") {
		t.Fatalf("import with bob's key: %d %q %q", code, out, errOut)
	}
	got, crypto, token := dump(t, restored)
	if got != head.Hash || crypto || token {
		t.Errorf("restored head %s (want %s), crypto store %v, session %v: want the record without the secrets", got, head.Hash, crypto, token)
	}
	if info, err := os.Stat(restored); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("restored database: %v %v", info, err)
	}

	// The bot's own key, read from the database the configuration names;
	// the passphrase's variable is not taken for an unknown configuration
	// key.
	viaConfig := filepath.Join(dir, "via-config.db")
	if _, errOut, code = quorumWith(t, []string{"QUORUM_BOB_PASS=pass bob"}, "import", backup, "--key", bobSecret, "--passphrase-env", "QUORUM_BOB_PASS", "--config", cfg, "--database", viaConfig); code != 0 {
		t.Errorf("import --config: %d %q", code, errOut)
	}
	// Without a key to check the signature with: a usage error.
	if _, errOut, code = quorumWith(t, asBob, "import", backup, "--key", bobSecret, "--database", filepath.Join(dir, "unchecked.db")); code != 2 || !strings.Contains(errOut, "--signed-by") {
		t.Errorf("import without --signed-by or --config: %d %q", code, errOut)
	}

	// Someone the backup is not for gets a clear error and no file.
	other := filepath.Join(dir, "other.db")
	_, errOut, code = quorumWith(t, []string{"QUORUM_KEY_PASSPHRASE=pass carol"}, "import", backup, "--key", carolSecret, "--signed-by", botPub, "--database", other)
	if code == 0 || !strings.Contains(errOut, "not encrypted to") {
		t.Errorf("import with carol's key: %d %q", code, errOut)
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("a failed import left a database behind")
	}
	// An existing file is not overwritten without --force.
	if _, errOut, code = quorumWith(t, asBob, "import", backup, "--key", bobSecret, "--signed-by", botPub, "--database", restored); code == 0 || !strings.Contains(errOut, "already exists") {
		t.Errorf("import over an existing file: %d %q", code, errOut)
	}

	// --include-crypto keeps everything, with a warning.
	full := filepath.Join(dir, "full.pgp")
	_, errOut, code = quorum(t, "export", "--config", cfg, "--to", bob, "-o", full, "--include-crypto")
	if code != 0 || !strings.Contains(errOut, "Warning") {
		t.Fatalf("export --include-crypto: %d %q", code, errOut)
	}
	fullDB := filepath.Join(dir, "full.db")
	if _, errOut, code = quorumWith(t, asBob, "import", full, "--key", bobSecret, "--signed-by", botPub, "--database", fullDB); code != 0 {
		t.Fatalf("import full: %d %q", code, errOut)
	}
	if _, crypto, token := dump(t, fullDB); !crypto || !token {
		t.Errorf("--include-crypto lost the crypto store (%v) or session (%v)", crypto, token)
	}
	// --force replaces a database (the bot is stopped: no journal beside it).
	if _, errOut, code = quorumWith(t, asBob, "import", full, "--key", bobSecret, "--signed-by", botPub, "--database", restored, "--force"); code != 0 {
		t.Fatalf("import --force: %d %q", code, errOut)
	}
	if _, crypto, _ := dump(t, restored); !crypto {
		t.Error("import --force did not replace the database")
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left behind: %q", l)
	}
}

// sealDatabase signs and encrypts the database file at path as export
// would, with the bot's key: how a forged database reaches an import when
// the bot's key is in the wrong hands (or a bug in the bot wrote it).
func sealDatabase(t *testing.T, path, to string, signer *record.Key) string {
	t.Helper()
	pub, err := os.ReadFile(to)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := record.ReadPublicKeys(pub)
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var buf bytes.Buffer
	if signer == nil {
		w, err := openpgp.Encrypt(&buf, keys, nil, &openpgp.FileHints{IsBinary: true}, nil)
		if err == nil {
			_, err = io.Copy(w, in)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			t.Fatal(err)
		}
	} else if err := record.Encrypt(&buf, in, keys, signer, "quorum.db"); err != nil {
		t.Fatal(err)
	}
	out := path + ".pgp"
	if err := os.WriteFile(out, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportRefusesForgeries: a backup not signed by the bot's key, one that
// expands beyond the limit, and one signed by the bot's key whose database
// holds a schema object the bot does not make (a trigger that would copy
// every secret voter next to their choice) are refused, leaving nothing.
func TestImportRefusesForgeries(t *testing.T) {
	dir := t.TempDir()
	cfg, _, botKey := botState(t, dir)
	botPub := publicKeyFile(t, dir, "quorum-key.asc", botKey)
	bob, bobSecret := keyPair(t, dir, "bob")
	// Another bot, whose key is not the one members hold.
	otherDir := filepath.Join(dir, "other")
	if err := os.Mkdir(otherDir, 0o700); err != nil {
		t.Fatal(err)
	}
	_, _, otherKey := botState(t, otherDir)

	genuine := filepath.Join(dir, "genuine.pgp")
	if _, errOut, code := quorum(t, "export", "--config", cfg, "--to", bob, "-o", genuine); code != 0 {
		t.Fatalf("export: %d %q", code, errOut)
	}

	// forge makes a database as the bot does, changes it with stmts, and
	// seals it.
	forge := func(name string, signer *record.Key, stmts ...string) string {
		path := filepath.Join(dir, name+".db")
		st, err := createBotDatabase(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range stmts {
			if _, err := st.DB.Exec(context.Background(), q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		return sealDatabase(t, path, bob, signer)
	}
	const spy = `CREATE TRIGGER spy AFTER UPDATE ON ballot_boxes BEGIN
		INSERT INTO meta (key, value) SELECT 'leak-' || hex(NEW.box), hex(roll) FROM ballot_rolls WHERE motion_id = NEW.motion_id; END`

	for _, tc := range []struct {
		name   string
		backup string
		args   []string
		want   string
	}{
		{"plain database, as made by the bot", forge("plain", botKey), nil, ""},
		{"a trigger", forge("trigger", botKey, spy), nil, `it has trigger "spy", which Quorum never makes`},
		{"a view", forge("view", botKey, "CREATE VIEW v AS SELECT * FROM ballot_rolls"), nil, `it has view "v", which Quorum never makes`},
		{"an index", forge("index", botKey, "CREATE INDEX extra ON ballot_rolls (turnout)"), nil, `it has index "extra", which Quorum never makes`},
		{"a changed table", forge("column", botKey, "ALTER TABLE ballot_boxes ADD COLUMN voter TEXT"), nil, `table "ballot_boxes" differ from what Quorum makes`},
		{"a missing table", forge("missing", botKey, "DROP TABLE ballot_rolls"), nil, `it lacks table "ballot_rolls"`},
		{"part of the crypto store", forge("crypto", botKey, "DROP TABLE crypto_olm_session"), nil, `it lacks table "crypto_olm_session"`},
		{"another version", forge("version", botKey, "UPDATE quorum_version SET version = 6, compat = 6"), nil, "made by another version of Quorum (quorum_version holds 6/6, this quorum makes "},
		{"unsigned", forge("unsigned", nil), nil, "this backup is not signed"},
		{"signed by another key", forge("otherkey", otherKey), nil, "which is not the key given"},
		{"another bot's export", func() string {
			p := filepath.Join(dir, "other.pgp")
			if _, errOut, code := quorum(t, "export", "--config", filepath.Join(otherDir, "config.yaml"), "--to", bob, "-o", p); code != 0 {
				t.Fatalf("export of the other bot: %d %q", code, errOut)
			}
			return p
		}(), nil, "which is not the key given"},
		{"beyond --max-size", genuine, []string{"--max-size", "64KiB"}, "the backup expands beyond the size limit of 65536 bytes (64 KiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := filepath.Join(t.TempDir(), "restored.db")
			args := append([]string{"import", tc.backup, "--key", bobSecret, "--signed-by", botPub, "--database", target}, tc.args...)
			_, errOut, code := quorumWith(t, []string{"QUORUM_KEY_PASSPHRASE=pass bob"}, args...)
			if tc.want == "" {
				if code != 0 {
					t.Fatalf("import: %d %q", code, errOut)
				}
				return
			}
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Errorf("import: exit %d %q, want 1 and %q", code, errOut, tc.want)
			}
			if _, err := os.Lstat(target); err == nil {
				t.Error("the refused backup was restored")
			}
			if l := leftovers(t, filepath.Dir(target)); len(l) > 0 {
				t.Errorf("temporary files left behind: %q", l)
			}
		})
	}

	for _, bad := range []string{"lots", "0", "-1MiB", "1.5GiB"} {
		if _, errOut, code := quorumWith(t, []string{"QUORUM_KEY_PASSPHRASE=pass bob"}, "import", genuine, "--key", bobSecret, "--signed-by", botPub, "--database", filepath.Join(dir, "x.db"), "--max-size", bad); code != 2 || !strings.Contains(errOut, "--max-size") {
			t.Errorf("--max-size %s: %d %q, want a usage error", bad, code, errOut)
		}
	}
}

// TestBackupTargets: export and import never follow a symbolic link at the
// target, replace an existing file only with --force (and then as a new
// 0600 file), and refuse to replace a database whose journal is beside it.
func TestBackupTargets(t *testing.T) {
	dir := t.TempDir()
	cfg, _, botKey := botState(t, dir)
	botPub := publicKeyFile(t, dir, "quorum-key.asc", botKey)
	bob, bobSecret := keyPair(t, dir, "bob")
	asBob := []string{"QUORUM_KEY_PASSPHRASE=pass bob"}
	backup := filepath.Join(dir, "backup.pgp")
	if _, errOut, code := quorum(t, "export", "--config", cfg, "--to", bob, "-o", backup); code != 0 {
		t.Fatalf("export: %d %q", code, errOut)
	}

	// A link to a file that must not change, at each target.
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{link, dangling} {
		for _, force := range []bool{false, true} {
			export := []string{"export", "--config", cfg, "--to", bob, "-o", target}
			imp := []string{"import", backup, "--key", bobSecret, "--signed-by", botPub, "--database", target}
			if force {
				export, imp = append(export, "--force"), append(imp, "--force")
			}
			for _, args := range [][]string{export, imp} {
				if _, errOut, code := quorumWith(t, asBob, args...); code != 1 || !strings.Contains(errOut, "is a symbolic link") {
					t.Errorf("%s %s (force %v): exit %d %q, want a refusal", args[0], filepath.Base(target), force, code, errOut)
				}
			}
		}
		if info, err := os.Lstat(target); err != nil || info.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link: %v %v", target, info, err)
		}
	}
	if data, err := os.ReadFile(victim); err != nil || string(data) != "precious" {
		t.Errorf("the link's target changed: %q %v", data, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("a dangling link's target was created")
	}

	// An existing file: refused, then replaced with --force by a new
	// private file (the old one's mode is not kept).
	for _, args := range [][]string{
		{"export", "--config", cfg, "--to", bob, "-o", victim},
		{"import", backup, "--key", bobSecret, "--signed-by", botPub, "--database", victim},
	} {
		if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := quorumWith(t, asBob, args...); code != 1 || !strings.Contains(errOut, "already exists; add --force") {
			t.Errorf("%s over a file: %d %q", args[0], code, errOut)
		}
		if data, _ := os.ReadFile(victim); string(data) != "precious" {
			t.Errorf("%s without --force changed the file", args[0])
		}
		if _, errOut, code := quorumWith(t, asBob, append(args, "--force")...); code != 0 {
			t.Errorf("%s --force: %d %q", args[0], code, errOut)
		}
		if info, err := os.Stat(victim); err != nil || info.Mode().Perm() != 0o600 || info.Size() <= int64(len("precious")) {
			t.Errorf("%s --force: the file is %v, %v; want a new 0600 file", args[0], info, err)
		}
		if err := os.Remove(victim); err != nil {
			t.Fatal(err)
		}
	}

	// The target is checked first, before any work: with nothing to read,
	// the existing file is still what the refusal names.
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	missingCfg := filepath.Join(dir, "missing-db.yaml")
	if err := os.WriteFile(missingCfg, []byte("homeserver: http://127.0.0.1:1\nuser_id: '@quorum:x'\npassword: pw\ndatabase: nowhere.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"export", "--config", missingCfg, "--to", bob, "-o", victim},
		{"import", filepath.Join(dir, "no-such-backup.pgp"), "--key", bobSecret, "--signed-by", botPub, "--database", victim},
	} {
		if _, errOut, code := quorumWith(t, asBob, args...); code != 1 || !strings.Contains(errOut, "already exists; add --force") {
			t.Errorf("%s over a file, with nothing to read: %d %q", args[0], code, errOut)
		}
	}

	// A database in use (its WAL or journal beside it) is not replaced.
	for _, journal := range []string{"-wal", "-journal"} {
		inUse := filepath.Join(dir, "in-use"+journal+".db")
		for _, f := range []string{inUse, inUse + journal} {
			if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if _, errOut, code := quorumWith(t, asBob, "import", backup, "--key", bobSecret, "--signed-by", botPub, "--database", inUse, "--force"); code != 1 || !strings.Contains(errOut, journal+" exists") || !strings.Contains(errOut, "stop the bot first") {
			t.Errorf("import --force over a database with its %s: %d %q", journal, code, errOut)
		}
	}
	if l := leftovers(t, dir); len(l) > 0 {
		t.Errorf("temporary files left behind: %q", l)
	}
}

// checkBackupOfRealBot exports the database of a bot that ran against a
// homeserver (its crypto store, state store and key as mautrix and the bot
// made them) and imports it with the bot's key from that configuration:
// the schema check must accept what the bot really makes.
func checkBackupOfRealBot(t *testing.T, cfg string) {
	t.Helper()
	dir := t.TempDir()
	alice, aliceSecret := keyPair(t, dir, "alice")
	for _, extra := range [][]string{nil, {"--include-crypto"}} {
		backup := filepath.Join(dir, fmt.Sprintf("backup%d.pgp", len(extra)))
		if out, errOut, code := quorum(t, append([]string{"export", "--config", cfg, "--to", alice, "-o", backup}, extra...)...); code != 0 {
			t.Fatalf("export %v of the real bot's database: %d %q %q", extra, code, out, errOut)
		}
		restored := filepath.Join(dir, fmt.Sprintf("restored%d.db", len(extra)))
		if out, errOut, code := quorumWith(t, []string{"QUORUM_KEY_PASSPHRASE=pass alice"}, "import", backup, "--key", aliceSecret, "--config", cfg, "--database", restored); code != 0 {
			t.Errorf("import %v of the real bot's database: %d %q %q", extra, code, out, errOut)
		}
		if _, crypto, _ := dump(t, restored); crypto != (extra != nil) {
			t.Errorf("import %v: crypto store restored: %v", extra, crypto)
		}
	}
}
