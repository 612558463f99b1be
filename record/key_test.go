package record

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestGenerateAndLoadKey(t *testing.T) {
	created := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	priv, err := GenerateKey("Night shift assembly", "assembly@example.org", "s3cret passphrase", created)
	if err != nil {
		t.Fatalf("GenerateKey: %v", err)
	}
	if !bytes.HasPrefix(priv, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
		t.Fatalf("private key is not armored: %.60q", priv)
	}

	k, err := LoadKey(priv, "s3cret passphrase")
	if err != nil {
		t.Fatalf("LoadKey: %v", err)
	}
	fp := k.Fingerprint()
	if !regexp.MustCompile(`^[0-9A-F]{4}( [0-9A-F]{4}){9}$`).MatchString(fp) {
		t.Errorf("Fingerprint() = %q, want ten groups of four uppercase hex digits", fp)
	}
	if want := fmt.Sprintf("%X", k.entity.PrimaryKey.Fingerprint); strings.ReplaceAll(fp, " ", "") != want {
		t.Errorf("Fingerprint() = %q, is not the key's fingerprint %s", fp, want)
	}

	// The stored key is encrypted: reading it without the passphrase gives
	// locked key material.
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(priv))
	if err != nil {
		t.Fatal(err)
	}
	if !el[0].PrivateKey.Encrypted || !el[0].Subkeys[0].PrivateKey.Encrypted {
		t.Error("private key material is stored unencrypted")
	}

	// Algorithms: v4 EdDSA legacy Ed25519 primary, v4 ECDH Curve25519 subkey
	// (what GnuPG 2.2 understands; the gpg test checks the same from gpg's side).
	pk := k.entity.PrimaryKey
	if pk.Version != 4 || pk.PubKeyAlgo != packet.PubKeyAlgoEdDSA {
		t.Errorf("primary key is v%d algorithm %d, want v4 EdDSA (22)", pk.Version, pk.PubKeyAlgo)
	}
	if c, err := pk.Curve(); err != nil || c != packet.Curve25519 {
		t.Errorf("primary key curve = %q (%v), want Curve25519 (Ed25519)", c, err)
	}
	if !pk.CreationTime.Equal(created) {
		t.Errorf("key created %v, want %v", pk.CreationTime, created)
	}
	if len(k.entity.Subkeys) != 1 {
		t.Fatalf("%d subkeys, want 1", len(k.entity.Subkeys))
	}
	sub := k.entity.Subkeys[0]
	if sub.PublicKey.Version != 4 || sub.PublicKey.PubKeyAlgo != packet.PubKeyAlgoECDH || !sub.Sig.FlagEncryptStorage || !sub.Sig.FlagEncryptCommunications {
		t.Errorf("subkey is v%d algorithm %d, flags %+v; want a v4 ECDH encryption subkey", sub.PublicKey.Version, sub.PublicKey.PubKeyAlgo, sub.Sig)
	}
	if id := k.entity.PrimaryIdentity(); id == nil || id.Name != "Night shift assembly <assembly@example.org>" {
		t.Errorf("user ID = %+v", id)
	}

	pub, err := k.ArmoredPublic()
	if err != nil {
		t.Fatalf("ArmoredPublic: %v", err)
	}
	pubs, err := ReadPublicKeys(pub)
	if err != nil {
		t.Fatalf("ReadPublicKeys: %v", err)
	}
	if len(pubs) != 1 || pubs[0].PrivateKey != nil || pubs[0].Subkeys[0].PrivateKey != nil {
		t.Error("the armored public key carries private key material")
	}
	if bytes.Contains(pub, []byte("PRIVATE")) {
		t.Error("the armored public key is labelled private")
	}
}

func TestLoadKeyErrors(t *testing.T) {
	tk := fixtureKey(t, "Assembly")

	_, err := LoadKey(tk.priv, "wrong passphrase")
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("LoadKey with a wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	if !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), tk.key.Fingerprint()) {
		t.Errorf("error %q does not say which key and why", err)
	}
	if _, err := LoadKey(tk.priv, ""); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("LoadKey with an empty passphrase: %v", err)
	}

	if _, err := LoadKey(tk.pub, tk.passphrase); err == nil || !strings.Contains(err.Error(), "public key, not a private key") {
		t.Errorf("LoadKey(public key) = %v", err)
	}
	if _, err := LoadKey([]byte("not a key"), "x"); err == nil {
		t.Error("LoadKey(garbage) succeeded")
	}
	two := append(append([]byte{}, tk.priv...), fixtureKey(t, "Other").priv...)
	if _, err := LoadKey(two, tk.passphrase); err == nil {
		t.Error("LoadKey(two keys) succeeded")
	}
}

func TestGenerateKeyRejects(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct{ name, email, pass string }{
		{"Quorum", "q@example.org", ""},
		{"Quorum <evil>", "q@example.org", "pw"},
		{"Quorum", "q@example.org)", "pw"},
	} {
		if _, err := GenerateKey(tc.name, tc.email, tc.pass, now); err == nil {
			t.Errorf("GenerateKey(%q, %q, %q) succeeded", tc.name, tc.email, tc.pass)
		}
	}
}
