package store

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestOpenShortValues: a value too short to hold the version, a nonce and
// a tag is not a sealed value (an error, never a panic, and not ErrSealKey,
// which tells the operator to restore the key file); the shortest sealed
// value, of an empty plaintext, opens.
func TestOpenShortValues(t *testing.T) {
	s := &sealer{path: filepath.Join(t.TempDir(), "seal-key")}
	bound := []byte("bound")
	empty, err := s.seal("test", nil, bound)
	if err != nil {
		t.Fatal(err)
	}
	if len(empty) != sealOverhead {
		t.Fatalf("an empty plaintext sealed in %d bytes, want %d", len(empty), sealOverhead)
	}
	if plain, err := s.open("test", empty, bound); err != nil || len(plain) != 0 || !isSealed(empty) {
		t.Errorf("the empty plaintext opened as %q, %v (sealed: %t)", plain, err, isSealed(empty))
	}
	for n := range sealOverhead {
		if _, err := s.open("test", empty[:n:n], bound); err == nil || errors.Is(err, ErrSealKey) || isSealed(empty[:n]) {
			t.Errorf("a value of %d bytes: %v (sealed: %t)", n, err, isSealed(empty[:n]))
		}
	}
}
