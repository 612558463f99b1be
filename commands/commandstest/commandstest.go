// Package commandstest runs features of the assembly on a temporary
// database with a clock and a room the test controls, the way package bot
// would: messages, reactions, redactions, the scheduler, and the outbox
// drained as if sent. Every feature package's tests use it.
package commandstest

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/config"
	"quorum/msg"
	"quorum/store"
)

// The test room, the bot and four members. Tests write members' IDs as
// "@ana:test" in commands too.
const (
	Room = id.RoomID("!room:test")
	Bot  = id.UserID("@quorum:test")
	Ana  = id.UserID("@ana:test")
	Ben  = id.UserID("@ben:test")
	Chi  = id.UserID("@chi:test")
	Dan  = id.UserID("@dan:test")
)

// Clock is a clock the test moves by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Rooms answers membership and power questions from tables.
type Rooms struct {
	Joined map[id.RoomID][]id.UserID
	// Power is each user's level; the moderator level is 50.
	Power map[id.UserID]int
}

// Members implements commands.Rooms.
func (t *Rooms) Members(_ context.Context, room id.RoomID) ([]id.UserID, error) {
	return t.Joined[room], nil
}

// PowerLevel implements commands.Rooms.
func (t *Rooms) PowerLevel(_ context.Context, _ id.RoomID, user id.UserID) (int, int, error) {
	return t.Power[user], 50, nil
}

// Features builds the features under test over env.
type Features func(env *commands.Env, log zerolog.Logger) []commands.Feature

// Harness is an assembly of some features on a temporary database, with a
// test clock (starting Wednesday 25 November 2026, 12:00 UTC) and the test
// room.
type Harness struct {
	T     *testing.T
	A     *commands.Dispatcher
	Env   *commands.Env
	Clock *Clock
	Rooms *Rooms
	// Last is what the last SendDM caused.
	Last []Sent
	seq  int
}

// NewHarness builds a harness of features, with members in the room beside the
// bot.
func NewHarness(t *testing.T, features Features, members ...id.UserID) *Harness {
	t.Helper()
	return NewHarnessIn(t, t.TempDir(), features, members...)
}

// NewHarnessIn is NewHarness with the database in dir (quorum.db), for
// tests that read, copy or reopen its files. The store is closed when the
// test ends, if the test did not close it.
func NewHarnessIn(t *testing.T, dir string, features Features, members ...id.UserID) *Harness {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "quorum.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clock := &Clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	rooms := &Rooms{Joined: map[id.RoomID][]id.UserID{Room: append([]id.UserID{Bot}, members...)}, Power: map[id.UserID]int{}}
	env := &commands.Env{Store: st, Config: Config(t), Clock: clock, Rooms: rooms, Bot: Bot}
	a, err := commands.New(env, zerolog.Nop(), features(env, zerolog.Nop())...)
	if err != nil {
		t.Fatal(err)
	}
	return &Harness{T: t, A: a, Env: env, Clock: clock, Rooms: rooms}
}

// Config loads a minimal valid configuration from the environment.
func Config(t *testing.T) *config.Config {
	t.Helper()
	t.Setenv("QUORUM_HOMESERVER", "http://127.0.0.1:1")
	t.Setenv("QUORUM_USER_ID", Bot.String())
	t.Setenv("QUORUM_PASSWORD", "x")
	t.Setenv("QUORUM_DATABASE", "unused.db")
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// NextEvent makes a fresh event ID.
func (h *Harness) NextEvent() id.EventID {
	h.seq++
	return id.EventID(fmt.Sprintf("$e%d", h.seq))
}

// Send handles body as a message from sender in the test room and returns
// the event ID.
func (h *Harness) Send(sender id.UserID, body string) id.EventID {
	h.T.Helper()
	evt := h.NextEvent()
	h.SendAs(sender, evt, body)
	return evt
}

// SendAs handles body as event evt from sender in the test room.
func (h *Harness) SendAs(sender id.UserID, evt id.EventID, body string) {
	h.T.Helper()
	_, err := h.A.HandleMessage(context.Background(), commands.Message{Room: Room, Sender: sender, Event: evt, Time: h.Clock.Now(), Body: body})
	if err != nil {
		h.T.Fatalf("handle %q: %v", body, err)
	}
}

// SendDM handles body as sent by sender in their direct room with the bot,
// and returns the first message it caused; the rest stay in h.Last.
func (h *Harness) SendDM(sender id.UserID, body string) string {
	h.T.Helper()
	room := id.RoomID("!dm-" + sender.Localpart() + ":test")
	// As package bot does: the room is known as the member's direct room
	// (so that it speaks their language).
	if err := h.Env.Store.DMs().Set(context.Background(), sender, room); err != nil {
		h.T.Fatal(err)
	}
	_, err := h.A.HandleMessage(context.Background(), commands.Message{Room: room, Sender: sender, Event: h.NextEvent(), Time: h.Clock.Now(), Body: body, InDM: true})
	if err != nil {
		h.T.Fatal(err)
	}
	h.Last = h.Drain()
	if len(h.Last) == 0 {
		h.T.Fatalf("%q in DM: no answer", body)
	}
	return h.Last[0].Msg.Body
}

// SetLang makes the test room speak lang, as `!lang` by a moderator does.
func (h *Harness) SetLang(lang string) {
	h.T.Helper()
	if err := h.Env.Store.Rooms().SetLanguage(context.Background(), Room, lang); err != nil {
		h.T.Fatal(err)
	}
}

// Sent is one outbox entry, decoded, as if delivered: EventID is the ID it
// was given.
type Sent struct {
	store.Outgoing
	Msg msg.Message
	// Ev is an event of another type (KindEvent: a poll's start or end).
	Ev      msg.Event
	EventID id.EventID
}

// Drain empties the outbox and returns what was in it, decoded.
func (h *Harness) Drain() []Sent {
	h.T.Helper()
	ctx := context.Background()
	list, err := h.Env.Store.Outbox().Pending(ctx, 10000)
	if err != nil {
		h.T.Fatal(err)
	}
	var out []Sent
	for _, o := range list {
		s := Sent{Outgoing: *o, EventID: h.NextEvent()}
		var anchor *msg.Anchor
		switch o.Kind {
		case commands.KindMessage:
			if err := json.Unmarshal(o.Payload, &s.Msg); err != nil {
				h.T.Fatal(err)
			}
			anchor = s.Msg.Anchor
		case commands.KindEvent:
			if err := json.Unmarshal(o.Payload, &s.Ev); err != nil {
				h.T.Fatal(err)
			}
			anchor = s.Ev.Anchor
		}
		// Deliver it the way package bot does: anchored messages are
		// recorded under their new event ID.
		if anchor != nil {
			if err := h.Env.Store.Anchors().Put(ctx, s.EventID, o.Room, store.Anchor(*anchor)); err != nil {
				h.T.Fatal(err)
			}
		}
		out = append(out, s)
		if err := h.Env.Store.Outbox().Done(ctx, o.ID); err != nil {
			h.T.Fatal(err)
		}
	}
	return out
}

// SendAndDrain sends body and returns all it caused.
func (h *Harness) SendAndDrain(from id.UserID, body string) []Sent {
	h.T.Helper()
	h.Send(from, body)
	return h.Drain()
}

// Reply sends body and returns the body of the single reply it causes.
func (h *Harness) Reply(sender id.UserID, body string) string {
	h.T.Helper()
	evt := h.Send(sender, body)
	out := h.Drain()
	if len(out) != 1 {
		h.T.Fatalf("%q: want 1 message, got %d: %+v", body, len(out), out)
	}
	if out[0].Msg.ReplyTo != evt {
		h.T.Fatalf("%q: reply is to %q, want %q", body, out[0].Msg.ReplyTo, evt)
	}
	return out[0].Msg.Body
}

// React handles a reaction from sender on target and returns its event ID.
func (h *Harness) React(sender id.UserID, target id.EventID, key string) id.EventID {
	h.T.Helper()
	evt := h.NextEvent()
	err := h.A.HandleReaction(context.Background(), commands.Reaction{Room: Room, Sender: sender, Event: evt, Target: target, Key: key, Time: h.Clock.Now()})
	if err != nil {
		h.T.Fatalf("reaction %q: %v", key, err)
	}
	return evt
}

// Respond handles an answer from sender to the poll target, selecting
// answers, and returns its event ID.
func (h *Harness) Respond(sender id.UserID, target id.EventID, answers ...string) id.EventID {
	h.T.Helper()
	evt := h.NextEvent()
	err := h.A.HandlePollResponse(context.Background(), commands.PollResponse{Room: Room, Sender: sender, Event: evt, Target: target, Answers: answers, Time: h.Clock.Now()})
	if err != nil {
		h.T.Fatalf("poll response %q: %v", answers, err)
	}
	return evt
}

// Polls returns the events of out of type typ (a poll's start or end).
func Polls(out []Sent, typ string) []Sent {
	var found []Sent
	for _, o := range out {
		if o.Kind == commands.KindEvent && o.Ev.Type == typ {
			found = append(found, o)
		}
	}
	return found
}

// Redact handles a redaction by sender of target.
func (h *Harness) Redact(sender id.UserID, target id.EventID) {
	h.T.Helper()
	err := h.A.HandleRedaction(context.Background(), commands.Redaction{Room: Room, Sender: sender, Event: h.NextEvent(), Redacts: target, Time: h.Clock.Now()})
	if err != nil {
		h.T.Fatalf("redaction: %v", err)
	}
}

// Due runs the scheduler once.
func (h *Harness) Due() time.Time {
	h.T.Helper()
	return h.A.RunDue(context.Background())
}

// AdvanceTo moves the clock to at, runs the scheduler and returns what it
// sent.
func (h *Harness) AdvanceTo(at time.Time) []Sent {
	h.T.Helper()
	h.Clock.Advance(at.Sub(h.Clock.Now()))
	h.Due()
	return h.Drain()
}

// Expect sends body as sender and checks that the reply contains want.
func Expect(t *testing.T, h *Harness, sender id.UserID, body, want string) {
	t.Helper()
	if got := h.Reply(sender, body); !strings.Contains(got, want) {
		t.Errorf("%s\n got %q\nwant %q", body, got, want)
	}
}

// ReplyCase is a command and what its one-line reply must contain.
type ReplyCase struct {
	From      id.UserID
	Cmd, Want string
}

// ExpectReplies checks each case's reply: one line, containing Want, and
// no internal error.
func ExpectReplies(t *testing.T, h *Harness, cases []ReplyCase) {
	t.Helper()
	for _, tc := range cases {
		got := h.Reply(tc.From, tc.Cmd)
		if !strings.Contains(got, tc.Want) || strings.Contains(got, "went wrong") || strings.Contains(got, "\n") {
			t.Errorf("%s: %q, want one line with %q", tc.Cmd, got, tc.Want)
		}
	}
}

// Only returns the single message sent, failing otherwise.
func Only(t *testing.T, out []Sent) Sent {
	t.Helper()
	if len(out) != 1 {
		t.Fatalf("want 1 message, got %d: %+v", len(out), out)
	}
	return out[0]
}

// Bodies lists out for a failure message.
func Bodies(out []Sent) string {
	var b strings.Builder
	for _, o := range out {
		fmt.Fprintf(&b, "\n  [%s room=%s dm=%s] %s", o.Kind, o.Room, o.DMUser, strings.ReplaceAll(string(o.Payload), "\n", " "))
	}
	return b.String()
}

// Saying returns the messages of out whose body contains substr.
func Saying(out []Sent, substr string) []Sent {
	var found []Sent
	for _, o := range out {
		if o.Kind == commands.KindMessage && strings.Contains(o.Msg.Body, substr) {
			found = append(found, o)
		}
	}
	return found
}

// One returns the only message of out whose body contains substr.
func One(t *testing.T, out []Sent, substr string) Sent {
	t.Helper()
	found := Saying(out, substr)
	if len(found) != 1 {
		t.Fatalf("want one message saying %q, got %d in:%s", substr, len(found), Bodies(out))
	}
	return found[0]
}

// ReminderField returns m's quorum.reminder.
func ReminderField(t *testing.T, s Sent) (kind, dueAt string, late bool) {
	t.Helper()
	f, ok := s.Msg.Fields["quorum.reminder"].(map[string]any)
	if !ok {
		t.Fatalf("no quorum.reminder in %+v", s)
	}
	return f["kind"].(string), f["due_at"].(string), f["late"].(bool)
}

// NewClock is a test clock at at.
func NewClock(at time.Time) *Clock { return &Clock{now: at} }

// update rewrites the golden files of the tests that use Golden.
var update = flag.Bool("update", false, "rewrite testdata/golden from what the tests see")

// Golden compares got with testdata/golden/<name>.<lang>.txt of the test's
// package, or writes it with -update. The files are read by people: they
// are the reference of each notice in each language; review the diff of
// every update.
func Golden(t *testing.T, name, lang, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+"."+lang+".txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update if the change is meant, and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
