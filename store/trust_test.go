package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// TestTrustNotices: each member and subject is told once; another subject or another member is told again.
func TestTrustNotices(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	now := time.Now()
	for _, tc := range []struct {
		user, subject string
		first         bool
	}{
		{"@ana:x", "device AAA", true},
		{"@ana:x", "device AAA", false},
		{"@ana:x", "device BBB", true},
		{"@ben:x", "device AAA", true},
		{"@ana:x", "plaintext", true},
		{"@ana:x", "plaintext", false},
	} {
		first, err := st.TrustNotices().First(ctx, id.UserID(tc.user), tc.subject, now)
		if err != nil {
			t.Fatal(err)
		}
		if first != tc.first {
			t.Errorf("%s %q: first = %v, want %v", tc.user, tc.subject, first, tc.first)
		}
	}
}
