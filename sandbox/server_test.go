package sandbox_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/sandbox"
	"quorum/testkit"
)

// login logs a user in with a password and returns a client bound to it.
func login(t *testing.T, ctx context.Context, s *sandbox.Server, user, password string) *mautrix.Client {
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
	s := testkit.StartHomeserver(t)
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
		for _, name := range []string{"matrix_key.pem", "dendrite.yaml"} {
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
		if s.Secret() == "" || bytes.Contains(log, []byte(s.Secret())) {
			t.Errorf("the shared secret is empty or appears in the Dendrite log")
		}
	})

	t.Run("second server on the same dir", func(t *testing.T) {
		other, err := sandbox.Start(ctx, sandbox.Options{Dir: s.Dir})
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
	if s.Answers(ctx) {
		t.Fatal("the homeserver still answers after Stop")
	}
}
