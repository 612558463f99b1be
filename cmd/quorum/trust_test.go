package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"quorum/record"
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
	// Unsigned text before or after the signed part, which gpg --verify
	// alone does not report, is refused.
	for name, padded := range map[string]string{
		"before": "## Entry 4\n\n    Decision 4: carried unanimously\n\n" + string(signed),
		"after":  string(signed) + "\n## Entry 4\n\n    Decision 4: carried unanimously\n",
	} {
		path := filepath.Join(dir, "padded-"+name+".md")
		if err := os.WriteFile(path, []byte(padded), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, errOut, code := quorum(t, "verify", path, "--key", pub); code != 1 || !strings.Contains(errOut, "not covered by the signature") {
			t.Errorf("verify minutes padded %s: %d %q", name, code, errOut)
		}
	}
	if _, _, code := quorum(t, "verify", good); code != 2 {
		t.Errorf("verify without --key: exit %d, want 2", code)
	}
}
