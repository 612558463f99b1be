package sandbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
)

// TestParallelServers starts two homeservers at once, as parallel test
// packages do, and checks they share nothing. It also runs alongside
// TestServer.
func TestParallelServers(t *testing.T) {
	t.Parallel()
	var (
		servers [2]*Server
		errs    [2]error
		wg      sync.WaitGroup
	)
	for i := range servers {
		// Start, not StartForTest: Fatal must not be called off the test goroutine.
		wg.Go(func() { servers[i], errs[i] = Start(t.Context(), Options{Dir: t.TempDir()}) })
	}
	wg.Wait()
	for i, s := range servers {
		if s != nil {
			t.Cleanup(func() {
				if err := s.Stop(); err != nil {
					t.Errorf("stop: %v", err)
				}
			})
		}
		if errs[i] != nil {
			t.Fatalf("start server %d: %v", i, errs[i])
		}
	}
	a, b := servers[0], servers[1]
	if a.Port == b.Port || a.Dir == b.Dir {
		t.Fatalf("servers share port %d/%d or dir %s/%s", a.Port, b.Port, a.Dir, b.Dir)
	}
	ctx := t.Context()
	if _, err := a.Register(ctx, "carol", "password only on a", false); err != nil {
		t.Fatalf("register on a: %v", err)
	}
	cli, err := mautrix.NewClient(b.URL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = cli.Login(ctx, &mautrix.ReqLogin{
		Type:       mautrix.AuthTypePassword,
		Identifier: mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: "carol"},
		Password:   "password only on a",
	})
	if !errors.Is(err, mautrix.MForbidden) {
		t.Fatalf("login on b with a's user: err = %v, want M_FORBIDDEN", err)
	}
}

// TestKeyFormat checks the signing key file against the rules of Dendrite's
// readKeyPEM (setup/config/config.go) and that an existing key is kept.
func TestKeyFormat(t *testing.T) {
	dir := t.TempDir()
	if err := ensureKey(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, keyFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "MATRIX PRIVATE KEY" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("not a single MATRIX PRIVATE KEY block:\n%s", data)
	}
	if !regexp.MustCompile(`^ed25519:[a-zA-Z0-9_]+$`).MatchString(block.Headers["Key-ID"]) {
		t.Errorf("Key-ID %q does not match Dendrite's key ID rule", block.Headers["Key-ID"])
	}
	if len(block.Bytes) != ed25519.SeedSize {
		t.Errorf("key has %d bytes, want a %d-byte ed25519 seed", len(block.Bytes), ed25519.SeedSize)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v %v, want 0600", st.Mode().Perm(), err)
	}
	if err := ensureKey(dir); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Error("ensureKey replaced an existing key")
	}
}

// TestConfigKeepsSecret checks that the config is written once and that the
// shared secret is read back from it on the next Start.
func TestConfigKeepsSecret(t *testing.T) {
	dir := t.TempDir()
	first, err := ensureConfig(dir, ServerName, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 64 {
		t.Fatalf("secret %d chars, want 64 hex", len(first))
	}
	second, err := ensureConfig(dir, ServerName, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if second != first {
		t.Fatal("the secret read back differs from the one written")
	}
	other, err := ensureConfig(t.TempDir(), ServerName, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Fatal("two sandboxes got the same secret")
	}
}

// TestRegistrationMAC checks the MAC against one computed independently
// (Python: hmac.new(b"secret", b"abc\0bob\0pw\0notadmin", hashlib.sha1)).
func TestRegistrationMAC(t *testing.T) {
	for _, tc := range []struct {
		admin bool
		want  string
	}{
		{false, "8ea9b87daa4e529ce4a0832f09be19bbe837a0af"},
		{true, "7135c477a04354f80777f35ba4505ef76b59e196"},
	} {
		if got := registrationMAC("secret", "abc", "bob", "pw", tc.admin); got != tc.want {
			t.Errorf("admin=%v: mac %s, want %s", tc.admin, got, tc.want)
		}
	}
}

func TestLastLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"", 3, "(empty)"},
		{"a\nb\nc\n", 2, "b\nc"},
		{"a\nb", 5, "a\nb"},
		{"a\n\n\n", 1, "a"},
	} {
		if got := lastLines([]byte(tc.in), tc.n); got != tc.want {
			t.Errorf("lastLines(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// TestEnsureDendriteBuild builds Dendrite from scratch into an empty cache
// folder with two concurrent callers, which must build once and agree on the
// path. With Go's build cache warm (CI installs Dendrite before the tests)
// it is a relink of a few seconds; from nothing, about three minutes.
func TestEnsureDendriteBuild(t *testing.T) {
	t.Setenv("QUORUM_CACHE_DIR", t.TempDir())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	var (
		wg    sync.WaitGroup
		paths [2]string
		errs  [2]error
		logs  [2]bytes.Buffer
	)
	for i := range paths {
		wg.Go(func() { paths[i], errs[i] = EnsureDendrite(ctx, &logs[i]) })
	}
	wg.Wait()
	for i := range paths {
		t.Logf("caller %d progress:\n%s", i, logs[i].String())
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
	}
	if paths[0] != paths[1] {
		t.Fatalf("callers got %s and %s", paths[0], paths[1])
	}
	if err := checkBinary(paths[0]); err != nil {
		t.Fatal(err)
	}
	builds := strings.Count(logs[0].String()+logs[1].String(), "(first run only")
	if builds != 1 {
		t.Fatalf("%d builds started, want 1", builds)
	}
	// A cached binary is returned without building again.
	var again bytes.Buffer
	if p, err := EnsureDendrite(ctx, &again); err != nil || p != paths[0] || again.Len() != 0 {
		t.Fatalf("cached EnsureDendrite: %q, %v, progress %q", p, err, again.String())
	}
}
