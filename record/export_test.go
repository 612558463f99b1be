package record

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// encryptionKeyID is the key ID a message to tk is addressed to (the
// encryption subkey's, as gpg shows it).
func encryptionKeyID(t testing.TB, tk testKey) string {
	t.Helper()
	if len(tk.key.entity.Subkeys) != 1 {
		t.Fatalf("%s has %d subkeys", tk.name, len(tk.key.entity.Subkeys))
	}
	return fmt.Sprintf("%016X", tk.key.entity.Subkeys[0].PublicKey.KeyId)
}

func TestExportRoundTrip(t *testing.T) {
	alice, bob, carol := fixtureKey(t, "Alice"), fixtureKey(t, "Bob"), fixtureKey(t, "Carol")
	recipients, err := ReadPublicKeys(alice.pub, bob.pub)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("SQLite format 3\x00" + strings.Repeat("motions and delegations ", 1000))
	var sealed bytes.Buffer
	if err := Encrypt(&sealed, bytes.NewReader(plain), recipients, "quorum-2026-03.db"); err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if bytes.Contains(sealed.Bytes(), []byte("motions and delegations")) || bytes.HasPrefix(sealed.Bytes(), []byte("-----BEGIN")) {
		t.Fatal("the export is not an encrypted binary message")
	}

	for _, tk := range []testKey{alice, bob} {
		var out bytes.Buffer
		if err := Decrypt(&out, bytes.NewReader(sealed.Bytes()), tk.priv, tk.passphrase); err != nil {
			t.Fatalf("Decrypt as %s: %v", tk.name, err)
		}
		if !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("Decrypt as %s: %d bytes differ from the %d encrypted", tk.name, out.Len(), len(plain))
		}
	}

	var out bytes.Buffer
	err = Decrypt(&out, bytes.NewReader(sealed.Bytes()), carol.priv, carol.passphrase)
	if err == nil {
		t.Fatal("Carol decrypted a backup not encrypted to her")
	}
	for _, want := range []string{"this backup is not encrypted to that key", encryptionKeyID(t, alice), encryptionKeyID(t, bob), encryptionKeyID(t, carol)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q: %v", want, err)
		}
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written for the wrong key", out.Len())
	}

	if err := Decrypt(io.Discard, bytes.NewReader(sealed.Bytes()), alice.priv, "wrong"); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("Decrypt with a wrong passphrase: %v", err)
	}
}

func TestExportTamperedOrInvalid(t *testing.T) {
	alice := fixtureKey(t, "Alice")
	recipients, err := ReadPublicKeys(alice.pub)
	if err != nil {
		t.Fatal(err)
	}
	var sealed bytes.Buffer
	if err := Encrypt(&sealed, strings.NewReader(strings.Repeat("row\n", 5000)), recipients, "q.db"); err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed.Bytes())
	flipped[len(flipped)-30] ^= 1
	if err := Decrypt(io.Discard, bytes.NewReader(flipped), alice.priv, alice.passphrase); err == nil || !strings.Contains(err.Error(), "damaged or was altered") {
		t.Errorf("Decrypt of an altered backup: %v", err)
	}
	truncated := sealed.Bytes()[:sealed.Len()/2]
	if err := Decrypt(io.Discard, bytes.NewReader(truncated), alice.priv, alice.passphrase); err == nil {
		t.Error("Decrypt of a truncated backup succeeded")
	}
	if err := Decrypt(io.Discard, strings.NewReader("SQLite format 3\x00 plain"), alice.priv, alice.passphrase); err == nil {
		t.Error("Decrypt of a plain file succeeded")
	}
	if err := Encrypt(io.Discard, strings.NewReader("x"), nil, "q.db"); err == nil {
		t.Error("Encrypt with no recipients succeeded")
	}
}

func TestReadPublicKeys(t *testing.T) {
	alice, bob, carol := fixtureKey(t, "Alice"), fixtureKey(t, "Bob"), fixtureKey(t, "Carol")
	// A pasted keyring file with two keys, then a single key.
	el, err := ReadPublicKeys(append(bytes.Clone(alice.pub), bob.pub...), carol.pub)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range el {
		got = append(got, fingerprint(e))
	}
	want := []string{alice.key.Fingerprint(), bob.key.Fingerprint(), carol.key.Fingerprint()}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("keys read: %q, want %q", got, want)
	}
	for _, bad := range [][]byte{nil, []byte("not a key"), alice.pub[:len(alice.pub)/2]} {
		if _, err := ReadPublicKeys(alice.pub, bad); err == nil {
			t.Errorf("ReadPublicKeys(…, %.20q) succeeded", bad)
		}
	}
	if _, err := ReadPublicKeys(); err == nil {
		t.Error("ReadPublicKeys() succeeded")
	}
	// The error names which argument is wrong, counting from 1.
	broken := []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64\n-----END PGP PUBLIC KEY BLOCK-----\n")
	for _, tc := range []struct {
		args [][]byte
		want string
	}{
		{[][]byte{[]byte("not a key")}, "read public key 1: no armored OpenPGP key found"},
		{[][]byte{alice.pub, bob.pub, []byte("not a key")}, "read public key 3: no armored OpenPGP key found"},
		{[][]byte{broken}, "read public key 1: "},
		{[][]byte{alice.pub, broken}, "read public key 2: "},
	} {
		if _, err := ReadPublicKeys(tc.args...); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("ReadPublicKeys(%d keys) = %v, want an error starting %q", len(tc.args), err, tc.want)
		}
	}
}

// streamSource yields n pseudo-random bytes and counts what has been read.
type streamSource struct {
	rng       *rand.ChaCha8
	remaining int64
	read      atomic.Int64
}

func (s *streamSource) Read(p []byte) (int, error) {
	if s.remaining == 0 {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), s.remaining)]
	s.rng.Read(p)
	s.remaining -= int64(len(p))
	s.read.Add(int64(len(p)))
	return len(p), nil
}

// firstWrite records how much of the source had been read when the first
// byte came out the other end.
type firstWrite struct {
	src         *streamSource
	h           io.Writer
	n           int64
	readAtFirst int64
}

func (w *firstWrite) Write(p []byte) (int, error) {
	if w.n == 0 && len(p) > 0 {
		w.readAtFirst = w.src.read.Load()
	}
	w.n += int64(len(p))
	return w.h.Write(p)
}

func TestExportStreamsLargeInput(t *testing.T) {
	const size = 20 << 20
	alice := fixtureKey(t, "Alice")
	recipients, err := ReadPublicKeys(alice.pub, fixtureKey(t, "Bob").pub)
	if err != nil {
		t.Fatal(err)
	}

	// Encrypt into a pipe that Decrypt reads from, so neither side can hold
	// the whole message: output must start before the input is all read.
	src := &streamSource{rng: rand.NewChaCha8([32]byte{1}), remaining: size}
	want := sha256.New()
	srcTee := io.TeeReader(src, want)
	pr, pw := io.Pipe()
	var cipherBytes atomic.Int64
	encErr := make(chan error, 1)
	go func() {
		err := Encrypt(&countWriter{w: pw, n: &cipherBytes}, srcTee, recipients, "big.db")
		pw.CloseWithError(err)
		encErr <- err
	}()
	got := sha256.New()
	out := &firstWrite{src: src, h: got}
	if err := Decrypt(out, pr, alice.priv, alice.passphrase); err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if err := <-encErr; err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if out.n != size {
		t.Fatalf("decrypted %d bytes, want %d", out.n, size)
	}
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatal("decrypted bytes differ from the input")
	}
	if out.readAtFirst >= size/2 {
		t.Errorf("first plaintext came out after %d of %d input bytes were read: not streaming", out.readAtFirst, size)
	}
	if c := cipherBytes.Load(); c < size || c > size+size/100 {
		t.Errorf("ciphertext is %d bytes for %d of input", c, size)
	}
}

type countWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// TestDecryptSigned: a backup that gpg signed as well as encrypted (gpg
// --sign --encrypt) decrypts whether the signer is this key, whose good
// signature is then checked, or a key Decrypt does not have, which it
// cannot check and does not hold against the backup.
func TestDecryptSigned(t *testing.T) {
	alice, bob := fixtureKey(t, "Alice"), fixtureKey(t, "Bob")
	recipients, err := ReadPublicKeys(alice.pub)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("SQLite format 3\x00 signed rows")
	for _, signer := range []testKey{alice, bob} {
		var sealed bytes.Buffer
		w, err := openpgp.Encrypt(&sealed, recipients, signer.key.entity, &openpgp.FileHints{IsBinary: true}, exportConfig())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(plain); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := Decrypt(&out, bytes.NewReader(sealed.Bytes()), alice.priv, alice.passphrase); err != nil || !bytes.Equal(out.Bytes(), plain) {
			t.Errorf("signed by %s: %v, %q", signer.name, err, out.Bytes())
		}
	}
}

// TestPrefixWriter: the first max bytes are kept, however the writes are
// cut, and every write reports all of its bytes taken.
func TestPrefixWriter(t *testing.T) {
	p := &prefixWriter{max: 5}
	for _, s := range []string{"ab", "cdefg", "", "hij"} {
		if n, err := p.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := p.buf.String(); got != "abcde" {
		t.Errorf("kept %q, want %q", got, "abcde")
	}
}
