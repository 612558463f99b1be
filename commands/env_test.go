package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/config"
	"quorum/msg"
	"quorum/store"
)

// testClock is a clock the test moves by hand.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testRooms answers membership and power questions from tables.
type testRooms struct {
	members map[id.RoomID][]id.UserID
	power   map[id.UserID]int
}

func (t *testRooms) Members(_ context.Context, room id.RoomID) ([]id.UserID, error) {
	return t.members[room], nil
}

func (t *testRooms) PowerLevel(_ context.Context, _ id.RoomID, user id.UserID) (int, int, error) {
	return t.power[user], 50, nil
}

const (
	testRoom = id.RoomID("!room:test")
	botID    = id.UserID("@quorum:test")
)

// harness is an assembly on a temp database with a test clock.
type harness struct {
	t     *testing.T
	a     *Assembly
	env   *Env
	clock *testClock
	rooms *testRooms
	seq   int
	last  []sent // what the last sendDM caused
}

func newHarness(t *testing.T, members ...id.UserID) *harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "quorum.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg, err := config.Load("")
	if err == nil || cfg != nil {
		t.Fatalf("config.Load with no settings should fail, got %v", err)
	}
	cfg = testConfig(t)
	clock := &testClock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	rooms := &testRooms{members: map[id.RoomID][]id.UserID{testRoom: append([]id.UserID{botID}, members...)}, power: map[id.UserID]int{}}
	env := &Env{Store: st, Config: cfg, Clock: clock, Rooms: rooms, Bot: botID}
	a, err := New(env, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, a: a, env: env, clock: clock, rooms: rooms}
}

// testConfig loads a minimal valid configuration from the environment.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	t.Setenv("QUORUM_HOMESERVER", "http://127.0.0.1:1")
	t.Setenv("QUORUM_USER_ID", botID.String())
	t.Setenv("QUORUM_PASSWORD", "x")
	t.Setenv("QUORUM_DATABASE", "unused.db")
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (h *harness) nextEvent() id.EventID {
	h.seq++
	return id.EventID(fmt.Sprintf("$e%d", h.seq))
}

// send handles body as a message from sender in the test room and returns
// the event ID.
func (h *harness) send(sender id.UserID, body string) id.EventID {
	h.t.Helper()
	evt := h.nextEvent()
	h.sendAs(sender, evt, body)
	return evt
}

func (h *harness) sendAs(sender id.UserID, evt id.EventID, body string) {
	h.t.Helper()
	_, err := h.a.HandleMessage(context.Background(), Message{Room: testRoom, Sender: sender, Event: evt, Time: h.clock.Now(), Body: body})
	if err != nil {
		h.t.Fatalf("handle %q: %v", body, err)
	}
}

// sent is one outbox entry, decoded, as if delivered: EventID is the ID it
// was given.
type sent struct {
	store.Outgoing
	Msg     msg.Message
	EventID id.EventID
}

// drain empties the outbox and returns what was in it, decoded.
func (h *harness) drain() []sent {
	h.t.Helper()
	ctx := context.Background()
	list, err := h.env.Store.Outbox().Pending(ctx, 10000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []sent
	for _, o := range list {
		s := sent{Outgoing: *o, EventID: h.nextEvent()}
		if o.Kind == KindMessage {
			if err := json.Unmarshal(o.Payload, &s.Msg); err != nil {
				h.t.Fatal(err)
			}
			// Deliver it the way package bot does: anchored messages are
			// recorded under their new event ID.
			if a := s.Msg.Anchor; a != nil {
				if err := h.env.Store.Anchors().Put(ctx, s.EventID, o.Room, store.Anchor(*a)); err != nil {
					h.t.Fatal(err)
				}
			}
		}
		out = append(out, s)
		if err := h.env.Store.Outbox().Done(ctx, o.ID); err != nil {
			h.t.Fatal(err)
		}
	}
	return out
}

// reply sends body and returns the body of the single reply it causes.
func (h *harness) reply(sender id.UserID, body string) string {
	h.t.Helper()
	evt := h.send(sender, body)
	out := h.drain()
	if len(out) != 1 {
		h.t.Fatalf("%q: want 1 message, got %d: %+v", body, len(out), out)
	}
	if out[0].Msg.ReplyTo != evt {
		h.t.Fatalf("%q: reply is to %q, want %q", body, out[0].Msg.ReplyTo, evt)
	}
	return out[0].Msg.Body
}

// react handles a reaction from sender on target and returns its event ID.
func (h *harness) react(sender id.UserID, target id.EventID, key string) id.EventID {
	h.t.Helper()
	evt := h.nextEvent()
	err := h.a.HandleReaction(context.Background(), Reaction{Room: testRoom, Sender: sender, Event: evt, Target: target, Key: key, Time: h.clock.Now()})
	if err != nil {
		h.t.Fatalf("reaction %q: %v", key, err)
	}
	return evt
}

// redact handles a redaction by sender of target.
func (h *harness) redact(sender id.UserID, target id.EventID) {
	h.t.Helper()
	err := h.a.HandleRedaction(context.Background(), Redaction{Room: testRoom, Sender: sender, Event: h.nextEvent(), Redacts: target, Time: h.clock.Now()})
	if err != nil {
		h.t.Fatalf("redaction: %v", err)
	}
}

// due runs the scheduler once.
func (h *harness) due() time.Time {
	h.t.Helper()
	return h.a.RunDue(context.Background())
}
