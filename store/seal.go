package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Sealing keeps what is private to one member out of reach of whoever has
// the database file alone (a copy, a backup, an export): an open secret
// ballot's roll and box, queued messages, the IDs of events from direct
// rooms. It is AES-256-GCM with keys derived from a random seal key kept in
// a file beside the database (SealKeyPath), never in it. Whoever also has
// that file (the bot's host) can open what is sealed; what a closed ballot
// sealed is deleted and overwritten at its close, so the key then opens
// nothing about it.

// SealKeyPath is where the seal key of the database at path is kept.
func SealKeyPath(path string) string { return path + ".seal-key" }

// sealVersion is the first byte of every sealed value, so that a reader can
// tell sealed values from values stored before sealing existed.
const sealVersion = 0x01

// sealOverhead is what sealing adds to a plaintext: the version, the nonce
// and the tag.
const sealOverhead = 1 + 12 + 16

// ErrSealKey is returned when a sealed value does not open with the seal
// key beside the database: the file was lost or replaced.
var ErrSealKey = errors.New("a sealed value does not open with the seal key beside the database (was the .seal-key file lost or replaced? restore it from the backup it was saved with)")

// sealer loads the seal key on first use, creating it if there is none (a
// database that never sealed anything has no key file).
type sealer struct {
	path string
	mu   sync.Mutex
	key  []byte
}

func (s *sealer) master() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		if err := createSealKey(s.path); err != nil {
			return nil, err
		}
		data, err = os.ReadFile(s.path)
	}
	if err != nil {
		return nil, fmt.Errorf("read seal key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s does not hold a seal key (32 bytes, base64); restore it from your backup", s.path)
	}
	s.key = key
	return key, nil
}

// newUnkeptSealer makes a sealer whose random key is never written down:
// what it seals opens in this process only.
func newUnkeptSealer() *sealer {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &sealer{key: key}
}

// createSealKey writes a new random key to path, mode 0600; if another
// process made one meanwhile, that one stays.
func createSealKey(path string) error {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("create seal key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("write seal key: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("write seal key: %w", err)
	}
	return f.Close()
}

// subkey derives the key of one purpose, so that a value sealed for one
// purpose never opens as another's.
func (s *sealer) subkey(purpose string) ([]byte, error) {
	master, err := s.master()
	if err != nil {
		return nil, err
	}
	return hkdf.Key(sha256.New, master, nil, "quorum "+purpose, 32)
}

func (s *sealer) aead(purpose string) (cipher.AEAD, error) {
	key, err := s.subkey(purpose)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// seal encrypts plain for purpose; bound is authenticated with it (the
// motion a ballot box belongs to), so that a sealed value moved elsewhere
// does not open.
func (s *sealer) seal(purpose string, plain, bound []byte) ([]byte, error) {
	aead, err := s.aead(purpose)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+aead.NonceSize(), 1+aead.NonceSize()+len(plain)+aead.Overhead())
	out[0] = sealVersion
	_, _ = rand.Read(out[1:])
	return aead.Seal(out, out[1:], plain, bound), nil
}

// open decrypts what seal made.
func (s *sealer) open(purpose string, sealed, bound []byte) ([]byte, error) {
	aead, err := s.aead(purpose)
	if err != nil {
		return nil, err
	}
	if !isSealed(sealed) {
		return nil, errors.New("not a sealed value")
	}
	plain, err := aead.Open(nil, sealed[1:1+aead.NonceSize()], sealed[1+aead.NonceSize():], bound)
	if err != nil {
		return nil, ErrSealKey
	}
	return plain, nil
}

// mac is a keyed hash (HMAC-SHA256, 16 bytes) for purpose: it finds a value
// again (an event ID) without storing it.
func (s *sealer) mac(purpose string, data []byte) ([]byte, error) {
	key, err := s.subkey(purpose)
	if err != nil {
		return nil, err
	}
	h := hmac.New(sha256.New, key)
	h.Write(data)
	return h.Sum(nil)[:16], nil
}

// isSealed says whether v is a value seal made (as opposed to one stored in
// the clear before sealing existed).
func isSealed(v []byte) bool { return len(v) >= sealOverhead && v[0] == sealVersion }
