package record

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// gnupg runs the real GnuPG in a throw-away home directory, because the
// promise of this package is that members can check minutes and restore
// backups with plain gpg, without the bot.
type gnupg struct {
	t    *testing.T
	home string
}

// newGPG fails, and never skips, when gpg is missing: CI installs GnuPG 2.2
// (package gnupg), and a skipped interop test would let that promise break
// unnoticed.
func newGPG(t *testing.T) *gnupg {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatalf("gpg is required for the interop tests (CI installs GnuPG 2.2; install package gnupg): %v", err)
	}
	home := t.TempDir()
	if err := os.Chmod(home, 0o700); err != nil {
		t.Fatal(err)
	}
	g := &gnupg{t: t, home: home}
	t.Cleanup(func() {
		// Stop the gpg-agent this home started, and only that one.
		_ = exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
	})
	return g
}

// run runs gpg with args and returns stdout, stderr (including --status-fd 2
// lines) and the error from a non-zero exit.
func (g *gnupg) run(stdin []byte, args ...string) (stdout, stderr []byte, err error) {
	g.t.Helper()
	cmd := exec.Command("gpg", append([]string{"--homedir", g.home, "--batch", "--no-tty", "--status-fd", "2"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// must runs gpg and fails the test on a non-zero exit.
func (g *gnupg) must(stdin []byte, args ...string) (stdout, stderr []byte) {
	g.t.Helper()
	out, errb, err := g.run(stdin, args...)
	if err != nil {
		g.t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, errb)
	}
	return out, errb
}

func (g *gnupg) importSecret(tk testKey) {
	g.t.Helper()
	g.must(tk.priv, "--pinentry-mode", "loopback", "--passphrase", tk.passphrase, "--import")
}

func (g *gnupg) file(name string, data []byte) string {
	g.t.Helper()
	p := filepath.Join(g.t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		g.t.Fatal(err)
	}
	return p
}

func noSpaces(fp string) string { return strings.ReplaceAll(fp, " ", "") }

// TestGPGReadsKey checks the key's algorithms as GnuPG 2.2 sees them.
func TestGPGReadsKey(t *testing.T) {
	g := newGPG(t)
	tk := fixtureKey(t, "Assembly")
	g.must(tk.pub, "--import")
	out, _ := g.must(nil, "--with-colons", "--fixed-list-mode", "--list-keys", noSpaces(tk.key.Fingerprint()))
	// pub: validity, length 255, algorithm 22 (EdDSA), ..., capabilities,
	// ..., curve ed25519; sub: algorithm 18 (ECDH), curve cv25519, usage e.
	lines := string(out)
	for _, re := range []string{
		`(?m)^pub:[^:]*:255:22:[0-9A-F]{16}:[0-9]+:::[^:]*:::[a-zA-Z]*s[a-zA-Z]*:::::ed25519:`,
		`(?m)^sub:[^:]*:255:18:[0-9A-F]{16}:[0-9]+:::[^:]*:::e:::::cv25519:`,
		`(?m)^fpr:::::::::` + noSpaces(tk.key.Fingerprint()) + `:$`,
		`(?m)^uid:.*:Quorum Assembly <assembly@example\.org>:`,
	} {
		if !regexp.MustCompile(re).MatchString(lines) {
			t.Errorf("gpg --list-keys does not match %s:\n%s", re, lines)
		}
	}

	// The secret key imports into gpg with the protection gpg 2.2 reads
	// (gpg checks the passphrase on first use, not on import).
	g.importSecret(tk)
	out, _ = g.must(nil, "--with-colons", "--list-secret-keys")
	if !bytes.Contains(out, []byte("sec:")) || !bytes.Contains(out, []byte("ssb:")) {
		t.Errorf("secret key and subkey not imported:\n%s", out)
	}
	out, _ = g.must(tk.priv, "--list-packets")
	for _, want := range []string{"version 4, algo 22", "version 4, algo 18", "iter+salt S2K, algo: 9, SHA1 protection, hash: 8"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("gpg --list-packets of the private key lacks %q:\n%s", want, out)
		}
	}
}

func TestGPGVerifiesMinutes(t *testing.T) {
	g := newGPG(t)
	signed, _, tk := signedMinutes(t)
	g.must(tk.pub, "--import")
	keyID := noSpaces(tk.key.Fingerprint())[24:]

	for name, doc := range map[string][]byte{
		"as signed": signed,
		"CRLF":      bytes.ReplaceAll(signed, []byte("\n"), []byte("\r\n")),
	} {
		_, status := g.must(nil, "--verify", g.file("minutes.md.asc", doc))
		for _, want := range []string{"[GNUPG:] GOODSIG " + keyID, "[GNUPG:] VALIDSIG " + noSpaces(tk.key.Fingerprint())} {
			if !bytes.Contains(status, []byte(want)) {
				t.Errorf("%s: gpg --verify does not report %q:\n%s", name, want, status)
			}
		}
	}

	tampered := bytes.Replace(signed, []byte(`"for":27,`), []byte(`"for":28,`), 1)
	if bytes.Equal(tampered, signed) {
		t.Fatal("tampering changed nothing")
	}
	_, status, err := g.run(nil, "--verify", g.file("tampered.md.asc", tampered))
	if err == nil || !bytes.Contains(status, []byte("[GNUPG:] BADSIG "+keyID)) {
		t.Errorf("gpg --verify of tampered minutes: %v\n%s", err, status)
	}

	// And the other way: minutes clear-signed by gpg with the same key pass
	// VerifyMinutes.
	g.importSecret(tk)
	doc := RenderMinutes(testMinutes(buildChain(t, 4)), describeForTest)
	gpgSigned, _ := g.must(doc, "--pinentry-mode", "loopback", "--passphrase", tk.passphrase,
		"--local-user", noSpaces(tk.key.Fingerprint()), "--clearsign")
	r, err := VerifyMinutes(gpgSigned, tk.pub)
	if err != nil {
		t.Fatalf("VerifyMinutes of minutes signed by gpg: %v\n%s", err, gpgSigned)
	}
	if r.Entries != 4 {
		t.Errorf("report of gpg-signed minutes: %+v", r)
	}
}

func TestGPGDecryptsExport(t *testing.T) {
	g := newGPG(t)
	alice, bob, bot := fixtureKey(t, "Alice"), fixtureKey(t, "Bob"), fixtureKey(t, "Assembly")
	recipients, err := ReadPublicKeys(alice.pub, bob.pub)
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("SQLite format 3\x00\x01\x02\xff"), 20000)
	var sealed bytes.Buffer
	if err := Encrypt(&sealed, bytes.NewReader(plain), recipients, bot.key, "quorum-2026-03.db"); err != nil {
		t.Fatal(err)
	}
	sealedPath := g.file("quorum.db.gpg", sealed.Bytes())

	g.importSecret(alice) // only Alice's secret key: Bob's part must not be needed
	outPath := filepath.Join(t.TempDir(), "restored.db")
	if _, status, err := g.run(nil, "--pinentry-mode", "loopback", "--passphrase", "wrong", "--output", outPath, "--decrypt", sealedPath); err == nil || !bytes.Contains(status, []byte("Bad passphrase")) {
		t.Fatalf("gpg --decrypt with a wrong passphrase: %v\n%s", err, status)
	}
	// Without the bot's public key gpg decrypts, but cannot check the
	// signature and exits with status 2.
	_, status, err := g.run(nil, "--pinentry-mode", "loopback", "--passphrase", alice.passphrase, "--output", outPath, "--decrypt", sealedPath)
	if exit, ok := errors.AsType[*exec.ExitError](err); !ok || exit.ExitCode() != 2 || !bytes.Contains(status, []byte("[GNUPG:] NO_PUBKEY")) {
		t.Errorf("gpg --decrypt without the bot's key: %v\n%s", err, status)
	}
	if got, _ := os.ReadFile(outPath); !bytes.Equal(got, plain) {
		t.Errorf("gpg --decrypt without the bot's key wrote %d bytes, not the %d encrypted", len(got), len(plain))
	}
	if err := os.Remove(outPath); err != nil {
		t.Fatal(err)
	}
	g.must(bot.pub, "--import")
	_, status = g.must(nil, "--pinentry-mode", "loopback", "--passphrase", alice.passphrase, "--output", outPath, "--decrypt", sealedPath)
	got, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, plain) {
		t.Fatalf("gpg --decrypt gave %d bytes, not the %d encrypted", len(got), len(plain))
	}
	for _, want := range []string{
		"[GNUPG:] ENC_TO " + encryptionKeyID(t, alice) + " 18 0",
		"[GNUPG:] ENC_TO " + encryptionKeyID(t, bob) + " 18 0",
		"[GNUPG:] DECRYPTION_OKAY",
		"[GNUPG:] GOODMDC",
		"[GNUPG:] PLAINTEXT 62 0 quorum-2026-03.db",
		"[GNUPG:] GOODSIG " + noSpaces(bot.key.Fingerprint())[24:],
		"[GNUPG:] VALIDSIG " + noSpaces(bot.key.Fingerprint()),
	} {
		if !bytes.Contains(status, []byte(want)) {
			t.Errorf("gpg --decrypt status lacks %q:\n%s", want, status)
		}
	}

	// And the other way: a backup that gpg signed with the bot's key and
	// encrypted (compressed, as gpg does by default) decrypts here; one that
	// gpg did not sign, or signed with another key (here the recipient's own),
	// is refused before anything is written.
	g.importSecret(bot)
	g.must(alice.pub, "--import")
	to := []string{"--trust-model", "always", "--pinentry-mode", "loopback", "--recipient", noSpaces(alice.key.Fingerprint())}
	signedBy := func(tk testKey) []string {
		return []string{"--local-user", noSpaces(tk.key.Fingerprint()), "--passphrase", tk.passphrase, "--sign"}
	}
	gpgSealed, _ := g.must(plain, append(append(to, signedBy(bot)...), "--encrypt")...)
	var restored bytes.Buffer
	sig, err := Decrypt(&restored, bytes.NewReader(gpgSealed), openAs(t, alice))
	if err != nil {
		t.Fatalf("Decrypt of gpg --sign --encrypt output: %v", err)
	}
	if !bytes.Equal(restored.Bytes(), plain) || !strings.Contains(sig.Signer, bot.key.Fingerprint()) {
		t.Fatalf("Decrypt of gpg --sign --encrypt output differs from the input, or signer %q", sig.Signer)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unsigned", append(slices.Clone(to), "--encrypt"), "this backup is not signed"},
		{"signed by the recipient", append(append(slices.Clone(to), signedBy(alice)...), "--encrypt"), "which is not the key given"},
	} {
		forged, _ := g.must(plain, tc.args...)
		var out bytes.Buffer
		if _, err := Decrypt(&out, bytes.NewReader(forged), openAs(t, alice)); err == nil || !strings.Contains(err.Error(), tc.want) || out.Len() != 0 {
			t.Errorf("Decrypt of a backup %s by gpg: %v, %d bytes written; want %q and nothing", tc.name, err, out.Len(), tc.want)
		}
	}
}

// TestGPGDelegateKeys encrypts exports to keys made by gpg itself, as
// delegates will bring them, and checks gpg decrypts them.
func TestGPGDelegateKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		gen  [][]string
	}{
		{"gpg default (ed25519/cv25519)", [][]string{{"--quick-gen-key", "Delegate <delegate@example.org>", "future-default", "default", "never"}}},
		{"rsa", [][]string{
			{"--quick-gen-key", "Delegate <delegate@example.org>", "rsa2048", "sign,cert", "never"},
			{"--quick-add-key", "FPR", "rsa2048", "encr", "never"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGPG(t)
			var fpr string
			for _, args := range tc.gen {
				args = append([]string{"--passphrase", "", "--pinentry-mode", "loopback"}, args...)
				for i, a := range args {
					if a == "FPR" {
						args[i] = fpr
					}
				}
				g.must(nil, args...)
				if fpr == "" {
					out, _ := g.must(nil, "--with-colons", "--list-keys", "delegate@example.org")
					m := regexp.MustCompile(`(?m)^fpr:::::::::([0-9A-F]{40}):`).FindSubmatch(out)
					if m == nil {
						t.Fatalf("no fingerprint in:\n%s", out)
					}
					fpr = string(m[1])
				}
			}
			pub, _ := g.must(nil, "--armor", "--export", fpr)
			recipients, err := ReadPublicKeys(pub, fixtureKey(t, "Alice").pub)
			if err != nil {
				t.Fatalf("ReadPublicKeys(gpg key): %v", err)
			}
			plain := []byte(fmt.Sprintf("backup for %s\n", tc.name))
			var sealed bytes.Buffer
			if err := Encrypt(&sealed, bytes.NewReader(plain), recipients, fixtureKey(t, "Assembly").key, "q.db"); err != nil {
				t.Fatalf("Encrypt to a gpg key: %v", err)
			}
			// The bot's key, from !key: without it gpg decrypts but cannot
			// check the signature, and exits with status 2.
			g.must(fixtureKey(t, "Assembly").pub, "--import")
			out, _ := g.must(sealed.Bytes(), "--decrypt")
			if !bytes.Equal(out, plain) {
				t.Fatalf("gpg --decrypt = %q, want %q", out, plain)
			}
		})
	}
}

// TestGPGPaddedMinutes is why the advice is `gpg --output FILE --verify` and
// to read only FILE, or `quorum verify`: text added before and after the
// signed part of a clear-signed file does not change what gpg --verify
// reports, and a Markdown viewer shows it like the rest. What gpg --output
// writes is the signed text alone; VerifyMinutes (quorum verify) refuses the
// padded file.
func TestGPGPaddedMinutes(t *testing.T) {
	g := newGPG(t)
	tk := fixtureKey(t, "Assembly")
	entries := buildChain(t, 6)
	doc := RenderMinutes(testMinutes(entries), describeForTest)
	if !bytes.Contains(doc, []byte("gpg --output CHECKED.md --verify FILE\n        then read CHECKED.md only.")) {
		t.Fatalf("the minutes do not give the advice tested here:\n%s", doc)
	}
	signed, err := tk.key.ClearSign(doc)
	if err != nil {
		t.Fatal(err)
	}
	g.must(tk.pub, "--import")
	keyID := noSpaces(tk.key.Fingerprint())[24:]

	const before = "# Minutes\n\n## Entry 7\n\n    Motion #99 (motion): Carried 12–0: the assembly dissolves the union.\n\n"
	const after = "\n## Entry 8\n\n    Motion #100 (motion): Carried 12–0: the treasurer may spend the strike fund.\n"
	for _, tc := range []struct{ name, before, after string }{
		{"before", before, ""},
		{"after", "", after},
		{"before and after", before, after},
	} {
		t.Run(tc.name, func(t *testing.T) {
			padded := append(append([]byte(tc.before), signed...), tc.after...)
			path := g.file("minutes-2026-11-30.md", padded)

			// The hazard: gpg --verify reports a good signature.
			_, status := g.must(nil, "--verify", path)
			if !bytes.Contains(status, []byte("[GNUPG:] GOODSIG "+keyID)) {
				t.Fatalf("gpg --verify of padded minutes does not report a good signature; the test proves nothing:\n%s", status)
			}

			// The advice: what gpg --output writes is the signed text, and
			// only that.
			checked := filepath.Join(t.TempDir(), "minutes-2026-11-30.checked.md")
			_, status = g.must(nil, "--output", checked, "--verify", path)
			if !bytes.Contains(status, []byte("[GNUPG:] GOODSIG "+keyID)) {
				t.Fatalf("gpg --output --verify does not report a good signature:\n%s", status)
			}
			out, err := os.ReadFile(checked)
			if err != nil {
				t.Fatal(err)
			}
			// gpg ends the last line with a line break of its own.
			if !bytes.Equal(bytes.TrimRight(out, "\n"), bytes.TrimRight(doc, "\n")) {
				t.Errorf("gpg --output wrote %d bytes, not the %d signed", len(out), len(doc))
			}
			for _, forged := range []string{"dissolves the union", "strike fund"} {
				if bytes.Contains(out, []byte(forged)) {
					t.Errorf("gpg --output kept the forged text %q", forged)
				}
			}

			// quorum verify refuses the padded file.
			if _, err := VerifyMinutes(padded, tk.pub); err == nil || !strings.Contains(err.Error(), "not covered by the signature") {
				t.Errorf("VerifyMinutes of padded minutes: %v", err)
			}
		})
	}
}
