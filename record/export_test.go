package record

import (
	"bytes"
	"compress/flate"
	"crypto"
	cryptorand "crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
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

// openAs is how tk opens a backup that the Assembly key (the bot's) signed.
func openAs(t testing.TB, tk testKey) DecryptOptions {
	t.Helper()
	bot, err := ReadPublicKeys(fixtureKey(t, "Assembly").pub)
	if err != nil {
		t.Fatal(err)
	}
	return DecryptOptions{Key: tk.priv, Passphrase: tk.passphrase, SignedBy: bot}
}

func TestExportRoundTrip(t *testing.T) {
	alice, bob, carol, bot := fixtureKey(t, "Alice"), fixtureKey(t, "Bob"), fixtureKey(t, "Carol"), fixtureKey(t, "Assembly")
	recipients, err := ReadPublicKeys(alice.pub, bob.pub)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("SQLite format 3\x00" + strings.Repeat("motions and delegations ", 1000))
	var sealed bytes.Buffer
	if err := Encrypt(&sealed, bytes.NewReader(plain), recipients, bot.key, "quorum-2026-03.db"); err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	if bytes.Contains(sealed.Bytes(), []byte("motions and delegations")) || bytes.HasPrefix(sealed.Bytes(), []byte("-----BEGIN")) {
		t.Fatal("the export is not an encrypted binary message")
	}

	for _, tk := range []testKey{alice, bob} {
		var out bytes.Buffer
		sig, err := Decrypt(&out, bytes.NewReader(sealed.Bytes()), openAs(t, tk))
		if err != nil {
			t.Fatalf("Decrypt as %s: %v", tk.name, err)
		}
		if !strings.Contains(sig.Signer, bot.key.Fingerprint()) || time.Since(sig.Time) > time.Minute {
			t.Errorf("Decrypt as %s: signed by %q at %v, want the bot's key just now", tk.name, sig.Signer, sig.Time)
		}
		if !bytes.Equal(out.Bytes(), plain) {
			t.Fatalf("Decrypt as %s: %d bytes differ from the %d encrypted", tk.name, out.Len(), len(plain))
		}
	}

	var out bytes.Buffer
	_, err = Decrypt(&out, bytes.NewReader(sealed.Bytes()), openAs(t, carol))
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

	wrong := openAs(t, alice)
	wrong.Passphrase = "wrong"
	if _, err := Decrypt(io.Discard, bytes.NewReader(sealed.Bytes()), wrong); !errors.Is(err, ErrWrongPassphrase) {
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
	bot := fixtureKey(t, "Assembly").key
	if err := Encrypt(&sealed, strings.NewReader(strings.Repeat("row\n", 5000)), recipients, bot, "q.db"); err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(sealed.Bytes())
	flipped[len(flipped)-30] ^= 1
	if _, err := Decrypt(io.Discard, bytes.NewReader(flipped), openAs(t, alice)); err == nil || !strings.Contains(err.Error(), "damaged or was altered") {
		t.Errorf("Decrypt of an altered backup: %v", err)
	}
	truncated := sealed.Bytes()[:sealed.Len()/2]
	if _, err := Decrypt(io.Discard, bytes.NewReader(truncated), openAs(t, alice)); err == nil {
		t.Error("Decrypt of a truncated backup succeeded")
	}
	if _, err := Decrypt(io.Discard, strings.NewReader("SQLite format 3\x00 plain"), openAs(t, alice)); err == nil {
		t.Error("Decrypt of a plain file succeeded")
	}
	if err := Encrypt(io.Discard, strings.NewReader("x"), nil, bot, "q.db"); err == nil {
		t.Error("Encrypt with no recipients succeeded")
	}
	if err := Encrypt(io.Discard, strings.NewReader("x"), recipients, nil, "q.db"); err == nil {
		t.Error("Encrypt without a signing key succeeded")
	}
	noSigners := openAs(t, alice)
	noSigners.SignedBy = nil
	if _, err := Decrypt(io.Discard, bytes.NewReader(sealed.Bytes()), noSigners); err == nil {
		t.Error("Decrypt without a key to check the signature succeeded")
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
	// The error names the argument at fault, counting from 1.
	for _, bad := range []struct {
		key  []byte
		want string
	}{
		{nil, "read public key 2: no armored OpenPGP key found"},
		{[]byte("not a key"), "read public key 2: no armored OpenPGP key found"},
		{alice.pub[:len(alice.pub)/2], "read public key 2: "},
	} {
		if _, err := ReadPublicKeys(alice.pub, bad.key); err == nil || !strings.HasPrefix(err.Error(), bad.want) {
			t.Errorf("ReadPublicKeys(…, %.20q): %v, want %q", bad.key, err, bad.want)
		}
	}
	if _, err := ReadPublicKeys(); err == nil {
		t.Error("ReadPublicKeys() succeeded")
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
		err := Encrypt(&countWriter{w: pw, n: &cipherBytes}, srcTee, recipients, fixtureKey(t, "Assembly").key, "big.db")
		pw.CloseWithError(err)
		encErr <- err
	}()
	got := sha256.New()
	out := &firstWrite{src: src, h: got}
	if _, err := Decrypt(out, pr, openAs(t, alice)); err != nil {
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

// sealRaw encrypts raw OpenPGP packets to tk, as anyone who has tk's public
// key can: the way to forge a backup.
func sealRaw(t testing.TB, tk testKey, packets []byte) []byte {
	t.Helper()
	key := make([]byte, 32)
	if _, err := cryptorand.Read(key); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := packet.SerializeEncryptedKeyAEAD(&buf, tk.key.entity.Subkeys[0].PublicKey, packet.CipherAES256, false, key, nil); err != nil {
		t.Fatal(err)
	}
	w, err := packet.SerializeSymmetricallyEncrypted(&buf, packet.CipherAES256, false, packet.CipherSuite{}, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(packets); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// announce is a one-pass signature packet that claims the message is
// signed by tk; the signature itself would come after the data.
func announce(t testing.TB, tk testKey) []byte {
	t.Helper()
	var buf bytes.Buffer
	ops := &packet.OnePassSignature{Version: 3, SigType: packet.SigTypeBinary, Hash: crypto.SHA256,
		PubKeyAlgo: packet.PubKeyAlgoEdDSA, KeyId: tk.key.entity.PrimaryKey.KeyId, IsLast: true}
	if err := ops.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// literal is a literal data packet holding data.
func literal(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := packet.SerializeLiteral(nopCloser{&buf}, true, "quorum.db", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// bitWriter writes a DEFLATE bit stream (least significant bit first).
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// code writes a Huffman code of n bits, which DEFLATE stores most
// significant bit first.
func (w *bitWriter) code(c uint64, n uint) { w.bits(reverse(c, n), n) }

func reverse(c uint64, n uint) uint64 {
	var r uint64
	for i := range n {
		r |= (c >> i & 1) << (n - 1 - i)
	}
	return r
}

// literalByte writes b with the fixed Huffman code of RFC 1951 3.2.6.
func (w *bitWriter) literalByte(b byte) {
	if b < 144 {
		w.code(0x30+uint64(b), 8)
	} else {
		w.code(0x190+uint64(b-144), 9)
	}
}

// deflateZeros is a raw DEFLATE stream, written by hand, of prefix followed
// by 1+258*runs zero bytes: one fixed-Huffman block of matches of length 258
// at distance 1, 13 bits for every 258 bytes (about 1:159), made without
// ever holding the zeros.
func deflateZeros(prefix []byte, runs int) []byte {
	w := &bitWriter{out: make([]byte, 0, runs*13/8+64)}
	w.bits(1, 1) // last block
	w.bits(1, 2) // fixed Huffman codes
	for _, b := range prefix {
		w.literalByte(b)
	}
	w.literalByte(0)
	// Length 258 is symbol 285, in the 8-bit codes of 280-287 from 0xC0;
	// distance 1 is the 5-bit code 0, which adds zero bits after it.
	m := reverse(0xC0+285-280, 8)
	for range runs {
		w.bits(m, 13)
	}
	w.code(0, 7) // end of block (256)
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	return w.out
}

// compressed is a compressed data packet (ZIP, raw DEFLATE) around body.
func compressed(body []byte) []byte {
	n := 1 + len(body)
	return append([]byte{0xC8, 0xFF, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 1}, body...)
}

// zipBomb returns packets that are small but decompress to a literal data
// packet of about size bytes (at most 4 GiB): a DEFLATE stream of zeros,
// compressed again, which brings it to about 1:80,000.
func zipBomb(t testing.TB, size int64) (packets []byte, plain int64) {
	t.Helper()
	runs := int((size - 7) / 258)
	plain = 1 + 258*int64(runs)
	body := 6 + plain // format, name length, date, data
	if body >= 1<<32 {
		t.Fatalf("a literal packet with a 5-byte length holds less than 4 GiB, not %d", body)
	}
	// Literal packet header (tag 11, 5-byte length) and body header
	// (binary, no name, date 0), then the zeros.
	head := []byte{0xCB, 0xFF, byte(body >> 24), byte(body >> 16), byte(body >> 8), byte(body), 'b', 0, 0, 0, 0, 0}
	inner := compressed(deflateZeros(head, runs))
	var outer bytes.Buffer
	fw, err := flate.NewWriter(&outer, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(inner); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return compressed(outer.Bytes()), plain
}

// TestDecryptBomb: a backup forged with nothing but a recipient's public key
// that would expand to 4 GiB is stopped at the cap, after writing at most
// the cap. Without a claim to be signed by the bot, it is refused before a
// byte is expanded.
func TestDecryptBomb(t *testing.T) {
	alice, bot := fixtureKey(t, "Alice"), fixtureKey(t, "Assembly")
	packets, plain := zipBomb(t, 4<<30-64)
	bomb := sealRaw(t, alice, append(announce(t, bot), packets...))
	if len(bomb) > 64<<10 || plain < 4<<30-1024 {
		t.Fatalf("the bomb is %d bytes for %d of plaintext: not small, or not huge", len(bomb), plain)
	}
	t.Logf("bomb: %d bytes that expand to %d bytes (%.0f:1)", len(bomb), plain, float64(plain)/float64(len(bomb)))

	const limit = 64 << 20
	opts := openAs(t, alice)
	opts.MaxSize = limit
	var out countingWriter
	start := time.Now()
	_, err := Decrypt(&out, bytes.NewReader(bomb), opts)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "64 MiB") {
		t.Fatalf("Decrypt of the bomb: %v, want ErrTooLarge naming the 64 MiB limit", err)
	}
	if out.n > limit {
		t.Errorf("%d bytes written, more than the %d limit", out.n, limit)
	}
	t.Logf("refused after writing %d bytes, in %v", out.n, time.Since(start).Round(time.Millisecond))

	// The default cap applies when none is given.
	opts.MaxSize = 0
	out = countingWriter{}
	start = time.Now()
	if _, err := Decrypt(&out, bytes.NewReader(bomb), opts); !errors.Is(err, ErrTooLarge) || out.n != DefaultMaxSize {
		t.Fatalf("Decrypt of the bomb with the default limit: %v after %d bytes, want ErrTooLarge after %d", err, out.n, DefaultMaxSize)
	}
	t.Logf("default limit: refused after writing %d bytes, in %v", out.n, time.Since(start).Round(time.Millisecond))

	// The same bomb without the claim is refused before expanding anything.
	out = countingWriter{}
	if _, err := Decrypt(&out, bytes.NewReader(sealRaw(t, alice, packets)), opts); err == nil || !strings.Contains(err.Error(), "not signed") || out.n != 0 {
		t.Errorf("Decrypt of the unsigned bomb: %v after %d bytes, want a refusal before any", err, out.n)
	}

	// A small bomb within the limit is stopped by its missing signature.
	small, _ := zipBomb(t, 1<<20)
	opts.MaxSize = limit
	if _, err := Decrypt(io.Discard, bytes.NewReader(sealRaw(t, alice, append(announce(t, bot), small...))), opts); err == nil || errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "bad signature") {
		t.Errorf("Decrypt of a forged backup within the limit: %v, want a bad signature", err)
	}
}

// TestDecryptForgedSignature: only a good signature by a key in SignedBy
// opens a backup.
func TestDecryptForgedSignature(t *testing.T) {
	alice, carol, bot := fixtureKey(t, "Alice"), fixtureKey(t, "Carol"), fixtureKey(t, "Assembly")
	recipients, err := ReadPublicKeys(alice.pub)
	if err != nil {
		t.Fatal(err)
	}
	db := []byte("SQLite format 3\x00 forged rows")
	seal := func(signer *openpgp.Entity) []byte {
		var buf bytes.Buffer
		w, err := openpgp.Encrypt(&buf, recipients, signer, &openpgp.FileHints{IsBinary: true}, exportConfig())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(db); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	carolID := fmt.Sprintf("%016X", carol.key.entity.PrimaryKey.KeyId)
	for _, tc := range []struct {
		name    string
		backup  []byte
		want    string
		written bool
	}{
		{"unsigned", seal(nil), "this backup is not signed", false},
		{"signed by another key", seal(carol.key.entity), "signed by key ID " + carolID + ", which is not the key given", false},
		{"signed by the recipient", seal(alice.key.entity), "which is not the key given", false},
		{"claimed but not signed", sealRaw(t, alice, append(announce(t, bot), literal(t, db)...)), "bad signature", true},
	} {
		var out bytes.Buffer
		_, err := Decrypt(&out, bytes.NewReader(tc.backup), openAs(t, alice))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Decrypt = %v, want %q", tc.name, err, tc.want)
		}
		if !tc.written && out.Len() != 0 {
			t.Errorf("%s: %d bytes written before the refusal", tc.name, out.Len())
		}
	}
	// The real thing passes.
	var out bytes.Buffer
	if _, err := Decrypt(&out, bytes.NewReader(seal(bot.key.entity)), openAs(t, alice)); err != nil || !bytes.Equal(out.Bytes(), db) {
		t.Errorf("a backup signed by the bot: %v", err)
	}
}

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// TestDecryptLimitBoundary: a backup of exactly the limit passes; one byte
// more does not.
func TestDecryptLimitBoundary(t *testing.T) {
	alice := fixtureKey(t, "Alice")
	recipients, err := ReadPublicKeys(alice.pub)
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("0123456789abcdef"), 4096)
	var sealed bytes.Buffer
	if err := Encrypt(&sealed, bytes.NewReader(plain), recipients, fixtureKey(t, "Assembly").key, "q.db"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		limit int64
		ok    bool
	}{{int64(len(plain)), true}, {int64(len(plain)) - 1, false}} {
		opts := openAs(t, alice)
		opts.MaxSize = tc.limit
		var out bytes.Buffer
		_, err := Decrypt(&out, bytes.NewReader(sealed.Bytes()), opts)
		if tc.ok && (err != nil || !bytes.Equal(out.Bytes(), plain)) {
			t.Errorf("limit %d for %d bytes: %v", tc.limit, len(plain), err)
		}
		if !tc.ok && (!errors.Is(err, ErrTooLarge) || int64(out.Len()) > tc.limit) {
			t.Errorf("limit %d for %d bytes: %v after %d bytes, want ErrTooLarge", tc.limit, len(plain), err, out.Len())
		}
	}
}

// TestHumanBytes: sizes in refusals are written in the largest binary unit
// they reach, whole when they are whole.
func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0:         "0 bytes",
		1023:      "1023 bytes",
		1024:      "1 KiB",
		1536:      "1.5 KiB",
		1<<20 - 1: "1024.0 KiB",
		1 << 20:   "1 MiB",
		1<<20 + 1: "1.0 MiB",
		3 << 29:   "1.5 GiB",
		4 << 30:   "4 GiB",
	} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestPrefixWriter: the head kept to name a backup's recipients is the
// first max bytes across writes, and every write reports success.
func TestPrefixWriter(t *testing.T) {
	w := &prefixWriter{max: 5}
	for _, s := range []string{"abc", "defg", "", "h"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Errorf("Write(%q) = %d, %v", s, n, err)
		}
	}
	if got := w.buf.String(); got != "abcde" {
		t.Errorf("kept %q, want %q", got, "abcde")
	}
}
