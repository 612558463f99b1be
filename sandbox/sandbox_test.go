package sandbox

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/pem"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// login logs a user in with a password and returns a client bound to it.
func login(t *testing.T, ctx context.Context, s *Server, user, password string) *mautrix.Client {
	t.Helper()
	cli, err := mautrix.NewClient(s.URL, "", "")
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	_, err = cli.Login(ctx, &mautrix.ReqLogin{
		Type:             mautrix.AuthTypePassword,
		Identifier:       mautrix.UserIdentifier{Type: mautrix.IdentifierTypeUser, User: user},
		Password:         password,
		StoreCredentials: true,
	})
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return cli
}

// TestServer drives one homeserver through the life the integration tests
// give it: users, login, a room and a message, a restart, a second Stop.
func TestServer(t *testing.T) {
	t.Parallel()
	s := StartForTest(t)
	ctx := t.Context()

	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.Port == 0 {
		t.Fatalf("URL = %q, Port = %d; want a loopback URL with a port", s.URL, s.Port)
	}
	if s.ServerName != "localhost" {
		t.Fatalf("ServerName = %q, want localhost", s.ServerName)
	}

	const pw = "correct horse battery"
	alice, err := s.Register(ctx, "alice", pw, true)
	if err != nil {
		t.Fatalf("register alice: %v", err)
	}
	bob, err := s.Register(ctx, "Bob", pw, false) // Dendrite lower-cases localparts
	if err != nil {
		t.Fatalf("register bob: %v", err)
	}
	if alice != "@alice:localhost" || bob != "@bob:localhost" {
		t.Fatalf("registered %s and %s, want @alice:localhost and @bob:localhost", alice, bob)
	}

	t.Run("register twice", func(t *testing.T) {
		// Different case and password: still the existing @bob:localhost.
		again, err := s.Register(ctx, "BOB", "another password", false)
		if err != nil || again != bob {
			t.Fatalf("second Register(bob) = %q, %v; want %q, nil", again, err, bob)
		}
	})
	t.Run("register invalid", func(t *testing.T) {
		for _, tc := range []struct{ localpart, password string }{
			{"no spaces", pw},
			{"_underscore", pw},
			{"shortpw", "short"},
		} {
			if got, err := s.Register(ctx, tc.localpart, tc.password, false); err == nil {
				t.Errorf("Register(%q, %q) = %q, nil; want an error", tc.localpart, tc.password, got)
			}
		}
	})

	aliceCli := login(t, ctx, s, "alice", pw)
	bobCli := login(t, ctx, s, "bob", pw)
	for _, c := range []struct {
		cli  *mautrix.Client
		want id.UserID
	}{{aliceCli, alice}, {bobCli, bob}} {
		who, err := c.cli.Whoami(ctx)
		if err != nil || who.UserID != c.want {
			t.Fatalf("whoami = %+v, %v; want %s", who, err, c.want)
		}
	}

	t.Run("registration device logged out", func(t *testing.T) {
		devices, err := bobCli.GetDevicesInfo(ctx)
		if err != nil {
			t.Fatalf("devices: %v", err)
		}
		if len(devices.Devices) != 1 || devices.Devices[0].DeviceID != bobCli.DeviceID {
			t.Fatalf("bob's devices = %+v; want only the login device %s", devices.Devices, bobCli.DeviceID)
		}
	})

	t.Run("admin flag", func(t *testing.T) {
		// An admin-only endpoint: 200 for alice (admin), 403 for bob.
		for _, c := range []struct {
			cli    *mautrix.Client
			status int
		}{{aliceCli, http.StatusOK}, {bobCli, http.StatusForbidden}} {
			_, err := c.cli.MakeRequest(ctx, http.MethodGet,
				c.cli.BuildURL(mautrix.SynapseAdminURLPath{"v1", "event_reports"}), nil, nil)
			status := http.StatusOK
			if httpErr, ok := errors.AsType[mautrix.HTTPError](err); ok && httpErr.Response != nil {
				status = httpErr.Response.StatusCode
			} else if err != nil {
				t.Fatalf("%s: event_reports: %v", c.cli.UserID, err)
			}
			if status != c.status {
				t.Errorf("%s: event_reports status %d, want %d", c.cli.UserID, status, c.status)
			}
		}
	})

	room, err := aliceCli.CreateRoom(ctx, &mautrix.ReqCreateRoom{Preset: "private_chat", Invite: []id.UserID{bob}})
	if err != nil {
		t.Fatalf("create room: %v", err)
	}
	if _, err := bobCli.JoinRoomByID(ctx, room.RoomID); err != nil {
		t.Fatalf("bob joins: %v", err)
	}
	const body = "hello from before the restart"
	sent, err := aliceCli.SendText(ctx, room.RoomID, body)
	if err != nil {
		t.Fatalf("send: %v", err)
	}

	url, port := s.URL, s.Port
	began := time.Now()
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("restart: %v", err)
	}
	t.Logf("restart took %s", time.Since(began).Round(10*time.Millisecond))
	if s.URL != url || s.Port != port {
		t.Fatalf("after restart URL = %s, want %s", s.URL, url)
	}

	// The same clients, tokens and port work, and the message is stored.
	evt, err := bobCli.GetEvent(ctx, room.RoomID, sent.EventID)
	if err != nil {
		t.Fatalf("get event after restart: %v", err)
	}
	if err := evt.Content.ParseRaw(evt.Type); err != nil {
		t.Fatalf("parse event: %v", err)
	}
	if msg := evt.Content.AsMessage(); evt.Type != event.EventMessage || msg.Body != body || evt.Sender != alice {
		t.Fatalf("after restart event = %s from %s body %q; want m.room.message from %s body %q",
			evt.Type.Type, evt.Sender, msg.Body, alice, body)
	}
	if _, err := aliceCli.SendText(ctx, room.RoomID, "and after"); err != nil {
		t.Fatalf("send after restart: %v", err)
	}

	t.Run("files", func(t *testing.T) {
		for _, name := range []string{keyFile, configFile} {
			st, err := os.Stat(filepath.Join(s.Dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s mode %v, want 0600", name, st.Mode().Perm())
			}
		}
		for _, name := range []string{"roomserver.db", "syncapi.db", "userapi_accounts.db", "jetstream"} {
			if _, err := os.Stat(filepath.Join(s.Dir, name)); err != nil {
				t.Errorf("expected %s in the data folder: %v", name, err)
			}
		}
		log, err := os.ReadFile(s.LogPath())
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(log, []byte("===== quorum sandbox: starting Dendrite")); n != 2 {
			t.Errorf("log has %d start headers, want 2 (start and restart)", n)
		}
		if s.secret == "" || bytes.Contains(log, []byte(s.secret)) {
			t.Errorf("the shared secret is empty or appears in the Dendrite log")
		}
	})

	t.Run("second server on the same dir", func(t *testing.T) {
		other, err := Start(ctx, Options{Dir: s.Dir})
		if err == nil {
			other.Stop()
			t.Fatal("a second Start on a running sandbox's folder succeeded")
		}
		if !strings.Contains(err.Error(), "already running") {
			t.Fatalf("second Start error = %v; want the folder-in-use error", err)
		}
	})

	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if s.answers(ctx) {
		t.Fatal("the homeserver still answers after Stop")
	}
}

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
	first, err := ensureConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 64 {
		t.Fatalf("secret %d chars, want 64 hex", len(first))
	}
	second, err := ensureConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if second != first {
		t.Fatal("the secret read back differs from the one written")
	}
	other, err := ensureConfig(t.TempDir())
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
