package record

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/ProtonMail/go-crypto/openpgp/s2k"
)

// ErrWrongPassphrase is returned (wrapped) when a private key does not unlock
// with the passphrase given, so that callers can ask again rather than report
// a broken key.
var ErrWrongPassphrase = errors.New("wrong passphrase for the private key")

// keyConfig is the one place where key and signature algorithms are chosen.
//
// Algorithm EdDSA with Curve "Curve25519" makes go-crypto produce a v4
// "EdDSA legacy" Ed25519 primary key (algorithm 22, OID 1.3.6.1.4.1.11591.15.1)
// and a v4 ECDH Curve25519 subkey (algorithm 18, OID 1.3.6.1.4.1.3029.1.5.1),
// which GnuPG 2.2 calls ed25519 and cv25519. PubKeyAlgoEd25519 (27) would be
// the RFC 9580 algorithm that GnuPG 2.2 cannot read.
//
// The private key is protected with iterated-and-salted S2K (SHA-256, the
// largest count) and AES-256 with the SHA-1 check (usage 254), as GnuPG 2.2
// expects; AEAD or Argon2 protection would not import there.
func keyConfig(now time.Time) *packet.Config {
	return &packet.Config{
		Algorithm:     packet.PubKeyAlgoEdDSA,
		Curve:         packet.Curve25519,
		V6Keys:        false,
		DefaultHash:   crypto.SHA256,
		DefaultCipher: packet.CipherAES256,
		Time:          func() time.Time { return now },
		S2KConfig: &s2k.Config{
			S2KMode:  s2k.IteratedSaltedS2K,
			Hash:     crypto.SHA256,
			S2KCount: 65011712,
		},
	}
}

// Key is the assembly's signing key, unlocked, as the bot holds it while it
// runs. It signs minutes and can decrypt exports addressed to it.
type Key struct {
	entity *openpgp.Entity
}

// GenerateKey makes the assembly's OpenPGP key: an Ed25519 signing primary and
// a Curve25519 encryption subkey, v4 so that GnuPG 2.2 can use it, created at
// now. It returns the private key armored and encrypted with passphrase, ready
// to be stored; the passphrase must not be empty because the file may end up
// in backups.
func GenerateKey(name, email, passphrase string, now time.Time) (armoredPrivate []byte, err error) {
	if passphrase == "" {
		return nil, errors.New("record: generate key: the passphrase is empty")
	}
	if now.IsZero() {
		now = time.Now()
	}
	if strings.ContainsAny(name+email, "()<>\x00") {
		return nil, errors.New("record: generate key: name and email must not contain ( ) < > or NUL")
	}
	cfg := keyConfig(now)
	e, err := openpgp.NewEntity(name, "", email, cfg)
	if err != nil {
		return nil, fmt.Errorf("record: generate key: %w", err)
	}
	if err := e.EncryptPrivateKeys([]byte(passphrase), cfg); err != nil {
		return nil, fmt.Errorf("record: generate key: encrypt private key: %w", err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PrivateKeyType, nil)
	if err != nil {
		return nil, fmt.Errorf("record: generate key: %w", err)
	}
	// Already self-signed by NewEntity; re-signing would need the unlocked key.
	if err := e.SerializePrivateWithoutSigning(w, cfg); err != nil {
		return nil, fmt.Errorf("record: generate key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("record: generate key: %w", err)
	}
	buf.WriteByte('\n') // go-crypto's armor ends without a newline
	return buf.Bytes(), nil
}

// LoadKey reads an armored private key (from [GenerateKey] or exported from
// GnuPG) and unlocks it with passphrase. A wrong passphrase gives an error
// wrapping [ErrWrongPassphrase].
func LoadKey(armoredPrivate []byte, passphrase string) (*Key, error) {
	e, err := readPrivateEntity(armoredPrivate, passphrase)
	if err != nil {
		return nil, err
	}
	if _, ok := e.SigningKey(time.Now()); !ok {
		return nil, fmt.Errorf("record: key %s cannot sign (expired or revoked?)", fingerprint(e))
	}
	return &Key{entity: e}, nil
}

func readPrivateEntity(armored []byte, passphrase string) (*openpgp.Entity, error) {
	// Only the first armored block would be read: refuse to guess which of
	// several keys was meant.
	if n := bytes.Count(armored, []byte("-----BEGIN PGP ")); n > 1 {
		return nil, fmt.Errorf("record: read private key: expected one key, found %d armored blocks", n)
	}
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("record: read private key: %w", err)
	}
	if len(el) != 1 {
		return nil, fmt.Errorf("record: read private key: expected one key, found %d", len(el))
	}
	e := el[0]
	if e.PrivateKey == nil {
		return nil, errors.New("record: read private key: this is a public key, not a private key")
	}
	if err := e.DecryptPrivateKeys([]byte(passphrase)); err != nil {
		return nil, fmt.Errorf("record: key %s: %w (%v)", fingerprint(e), ErrWrongPassphrase, err)
	}
	return e, nil
}

// ArmoredPublic returns the public key, armored, to publish to members so that
// they can check minutes and encrypt to the bot.
func (k *Key) ArmoredPublic() ([]byte, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, fmt.Errorf("record: armor public key: %w", err)
	}
	if err := k.entity.Serialize(w); err != nil {
		return nil, fmt.Errorf("record: armor public key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("record: armor public key: %w", err)
	}
	buf.WriteByte('\n') // go-crypto's armor ends without a newline
	return buf.Bytes(), nil
}

// Fingerprint returns the primary key's fingerprint as uppercase hex in groups
// of four ("ABCD 1234 ..."), the form people read aloud at a meeting to
// confirm they imported the right key.
func (k *Key) Fingerprint() string {
	return fingerprint(k.entity)
}

func fingerprint(e *openpgp.Entity) string {
	return groupHex(fmt.Sprintf("%X", e.PrimaryKey.Fingerprint))
}

func groupHex(h string) string {
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i:min(i+4, len(h))])
	}
	return b.String()
}

// ClearSign returns doc as an RFC 4880 cleartext-signed message: still
// readable as text (lines starting with "-" gain a "- " escape), and
// checkable with [VerifyMinutes], or with gpg --output FILE --verify, reading
// FILE only (gpg --verify alone does not report unsigned text added around
// the signed part). Trailing spaces and tabs on a line are not covered by
// such a signature; [RenderMinutes] writes none.
func (k *Key) ClearSign(doc []byte) ([]byte, error) {
	sk, ok := k.entity.SigningKey(time.Now())
	if !ok || sk.PrivateKey == nil {
		return nil, fmt.Errorf("record: key %s cannot sign (expired or revoked?)", k.Fingerprint())
	}
	var buf bytes.Buffer
	w, err := clearsign.Encode(&buf, sk.PrivateKey, &packet.Config{DefaultHash: crypto.SHA256})
	if err != nil {
		return nil, fmt.Errorf("record: clear-sign: %w", err)
	}
	if _, err := w.Write(doc); err != nil {
		return nil, fmt.Errorf("record: clear-sign: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("record: clear-sign: %w", err)
	}
	buf.WriteByte('\n') // go-crypto's armor ends without a newline
	return buf.Bytes(), nil
}
