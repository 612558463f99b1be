package commands_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/msg"
	"quorum/store"
)

// toy is a feature with one of everything a feature may have; it notes
// what the dispatcher asks of it in log.
type toy struct {
	group string
	log   *[]string
	// owns are the events whose redaction it handles.
	owns map[id.EventID]bool
	// due and dueErr are what Due returns.
	due    time.Time
	dueErr error
	// editErr fails the notice edits.
	editErr error
	cmds    []*commands.Command
}

func (f *toy) note(format string, args ...any) { *f.log = append(*f.log, fmt.Sprintf(format, args...)) }

func (f *toy) Group() string                 { return f.group }
func (f *toy) Commands() []*commands.Command { return f.cmds }

func (f *toy) Reactions() map[string]commands.ReactionHandler {
	return map[string]commands.ReactionHandler{f.group: func(_ context.Context, fx *commands.Effects, ref int64, rx commands.Reaction) error {
		f.note("%s: reaction %s on %d by %s", f.group, rx.Key, ref, rx.Sender)
		if rx.Key == "💥" {
			fx.DM(rx.Sender, msg.F("never sent"))
			return errors.New("reaction failed")
		}
		fx.DM(rx.Sender, msg.F("%s saw your %s", f.group, rx.Key))
		return nil
	}}
}

func (f *toy) Redaction(_ context.Context, fx *commands.Effects, rd commands.Redaction) (bool, error) {
	f.note("%s: redaction of %s", f.group, rd.Redacts)
	if rd.Redacts == "$fail" {
		return false, errors.New("redaction failed")
	}
	if f.owns[rd.Redacts] {
		fx.Say(rd.Room, msg.F("%s withdrew %s", f.group, rd.Redacts))
		return true, nil
	}
	return false, nil
}

func (f *toy) Left(_ context.Context, fx *commands.Effects, room id.RoomID, user id.UserID, _ time.Time) error {
	f.note("%s: %s left", f.group, user)
	if user == "@fail:test" {
		return errors.New("leave failed")
	}
	fx.Say(room, msg.F("%s: goodbye %s", f.group, user.String()))
	return nil
}

func (f *toy) Due(context.Context, time.Time) (time.Time, error) {
	f.note("%s: due", f.group)
	return f.due, f.dueErr
}

func (f *toy) NoticeEdits() map[string]commands.EditFunc {
	return map[string]commands.EditFunc{f.group: func(_ context.Context, fx *commands.Effects, ref int64) error {
		f.note("%s: edit %d", f.group, ref)
		if f.editErr != nil {
			return f.editErr
		}
		fx.Say(Room, msg.F("%s edited %d", f.group, ref))
		return nil
	}}
}

// toyHarness is two toy features, "Toys" (with every kind of command) and
// "More" (which adds a subcommand to widget), in the test room.
func toyHarness(t *testing.T) (*Harness, *toy, *toy, *[]string) {
	t.Helper()
	var log []string
	reply := func(format string) func(context.Context, *commands.Request) error {
		return func(_ context.Context, r *commands.Request) error {
			r.Replyf(format, r.Target, r.Args)
			return nil
		}
	}
	toys := &toy{group: "Toys", log: &log, owns: map[id.EventID]bool{}, cmds: []*commands.Command{
		{Name: "echo", Aliases: []string{"say", "e"}, Usage: "echo <text>", Summary: "say it back", Help: "Repeats what you say.",
			Examples: []string{"echo hi", "echo there"}, Handler: reply("echo%s: %s")},
		{Name: "fail", Summary: "refuse", Handler: func(_ context.Context, r *commands.Request) error {
			r.Replyf("kept?")
			return commands.Refusef("No, %s.", r.Args)
		}},
		{Name: "boom", Summary: "break", Handler: func(_ context.Context, r *commands.Request) error {
			r.Replyf("kept?")
			return errors.New("disk on fire")
		}},
		{Name: "prep", Summary: "prepared outside the transaction",
			Prepare: func(_ context.Context, r *commands.Request) error {
				if r.Args == "no" {
					return commands.Refusef("Not prepared.")
				}
				r.Prepared = len(r.Args)
				return nil
			},
			Handler: func(_ context.Context, r *commands.Request) error {
				n, ok := r.Prepared.(int)
				if !ok {
					return errors.New("not prepared")
				}
				r.Replyf("prepared %d", n)
				return nil
			}},
		{Name: "timey", Summary: "a parser's error", Handler: func(_ context.Context, r *commands.Request) error {
			_, err := commands.ParseSeries("every foo", time.Now(), time.UTC)
			return err
		}},
		{Name: "widget", Summary: "widgets", Target: "<name>",
			Subcommands: []*commands.Command{
				{Name: "make", Aliases: []string{"mk"}, Usage: "make <name>", Summary: "make a widget", Handler: reply("made%s %s")},
				{Name: "break", Usage: "break", Summary: "break one", Handler: reply("broke%s %s")},
			},
			Actions: []*commands.Command{
				{Name: "paint", Usage: "paint <colour>", Summary: "paint it", Handler: reply("painted %s %s")},
			}},
		{Name: "gizmo", Usage: "gizmo <name>", Summary: "gizmos", Target: "<name>", Help: "Gizmos do things.",
			Actions: []*commands.Command{
				{Name: "spin", Usage: "spin", Summary: "spin it", Handler: reply("spun %s %s")},
				{Name: "stop", Usage: "stop", Summary: "stop it", Handler: reply("stopped %s %s")},
			},
			Handler: func(_ context.Context, r *commands.Request) error {
				words := strings.Fields(r.Args)
				if len(words) < 2 {
					r.Replyf("gizmo %s", r.Args)
					return nil
				}
				return r.Unknown(words[0], words[1])
			}},
	}}
	more := &toy{group: "More", log: &log, owns: map[id.EventID]bool{}, cmds: []*commands.Command{
		{Name: "widget", Subcommands: []*commands.Command{
			{Name: "extra", Usage: "extra", Summary: "from another feature", Handler: reply("extra%s %s")},
		}},
		{Name: "ping", Usage: "ping", Summary: "pong", Handler: reply("pong%s%s")},
	}}
	h := NewHarness(t, func(*commands.Env, zerolog.Logger) []commands.Feature {
		return []commands.Feature{toys, more}
	}, Ana, Ben)
	return h, toys, more, &log
}

func TestDispatchCommands(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!echo hello  there ", Want: "echo: hello  there"},
		{From: Ana, Cmd: "!SAY hi", Want: "echo: hi"},
		{From: Ana, Cmd: "!e hi", Want: "echo: hi"},
		{From: Ana, Cmd: "!widget make blue one", Want: "made blue one"},
		{From: Ana, Cmd: "!widget MK red", Want: "made red"},
		{From: Ana, Cmd: "!widget extra", Want: "extra"},
		{From: Ana, Cmd: "!widget w1 paint red", Want: "painted w1 red"},
		{From: Ana, Cmd: "!gizmo g1 spin now", Want: "spun g1 now"},
		{From: Ana, Cmd: "!gizmo g1", Want: "gizmo g1"},
		{From: Ana, Cmd: "!ping", Want: "pong"},
		// Unknown commands, with a suggestion when one is near.
		{From: Ana, Cmd: "!ehco hi", Want: "I don't know `!ehco`. Did you mean `!echo`? Send `!help` for the list."},
		{From: Ana, Cmd: "!xyzzy", Want: "I don't know `!xyzzy`. Send `!help` for the list of commands."},
		// Subcommands and actions that do not exist.
		{From: Ana, Cmd: "!widget", Want: "Try `!widget make <name>`, `!widget break`, `!widget extra`."},
		{From: Ana, Cmd: "!widget mkae", Want: "I don't know `!widget mkae`. Did you mean `!widget make`? Try `!widget make <name>`,"},
		{From: Ana, Cmd: "!widget zzzzzz", Want: "I don't know `!widget zzzzzz`. Try `!widget make <name>`, `!widget break`, `!widget extra`."},
		{From: Ana, Cmd: "!widget " + strings.Repeat("w", 40), Want: "I don't know `!widget " + strings.Repeat("w", 32) + "…`. Try"},
		{From: Ana, Cmd: "!gizmo g1 spni", Want: "I don't know `!gizmo g1 spni`. Did you mean `!gizmo g1 spin`? Try `!gizmo g1 spin`, `!gizmo g1 stop`."},
		{From: Ana, Cmd: "!gizmo g1 " + strings.Repeat("x", 33), Want: "I don't know `!gizmo g1 " + strings.Repeat("x", 32) + "…`. Try `!gizmo g1 spin`, `!gizmo g1 stop`."},
		// Refusals and failures keep nothing the command did.
		{From: Ana, Cmd: "!fail now", Want: "No, now."},
		{From: Ana, Cmd: "!timey", Want: `I couldn't read "foo" as a repeat.`},
	})
	got := h.Reply(Ana, "!boom")
	if !regexp.MustCompile(`^Sorry, something went wrong on my side and nothing was changed \(ref [A-Za-z0-9]{8}\)\. Please try again in a moment\.$`).MatchString(got) {
		t.Errorf("!boom: %q", got)
	}
	// Exactly 32 characters is echoed whole.
	w32 := strings.Repeat("w", 32)
	if got := h.Reply(Ana, "!widget "+w32); !strings.Contains(got, "`!widget "+w32+"`. Try") {
		t.Errorf("a 32-character word: %q", got)
	}
}

func TestDispatchMessage(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	ctx := context.Background()
	h.Env.Config.CommandPrefixes = []string{"!", "?"}
	// Not a command: not handled, nothing said.
	for _, body := range []string{"hello", "", "! echo", "echo !echo"} {
		if ok, err := h.A.HandleMessage(ctx, commands.Message{Room: Room, Sender: Ana, Event: h.NextEvent(), Body: body}); ok || err != nil {
			t.Errorf("%q handled: %v %v", body, ok, err)
		}
		if h.A.IsCommand(body) {
			t.Errorf("IsCommand(%q)", body)
		}
	}
	if out := h.Drain(); len(out) != 0 {
		t.Fatalf("non-commands were answered:%s", Bodies(out))
	}
	// The reply uses the prefix the sender used, and mentions them.
	evt := h.NextEvent()
	if ok, err := h.A.HandleMessage(ctx, commands.Message{Room: Room, Sender: Ben, Event: evt, Body: "?ehco"}); !ok || err != nil {
		t.Fatalf("?ehco: %v %v", ok, err)
	}
	reply := Only(t, h.Drain())
	if reply.Msg.Body != "I don't know `?ehco`. Did you mean `?echo`? Send `?help` for the list." || reply.Msg.ReplyTo != evt ||
		!slices.Equal(reply.Msg.Mentions, []id.UserID{Ben}) || reply.Room != Room {
		t.Errorf("reply: %+v", reply)
	}
	if !h.A.IsCommand("?echo") || !h.A.IsCommand("!echo") {
		t.Error("IsCommand misses a prefix")
	}
	// An event is handled once, however often it arrives.
	evt = h.NextEvent()
	for range 3 {
		if ok, err := h.A.HandleMessage(ctx, commands.Message{Room: Room, Sender: Ana, Event: evt, Body: "!echo once"}); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if out := h.Drain(); len(out) != 1 {
		t.Errorf("a redelivered command ran %d times", len(out))
	}
	// So is a failed one: its explanation is sent once.
	evt = h.NextEvent()
	for range 2 {
		if ok, err := h.A.HandleMessage(ctx, commands.Message{Room: Room, Sender: Ana, Event: evt, Body: "!fail again"}); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	if out := h.Drain(); len(out) != 1 || out[0].Msg.Body != "No, again." {
		t.Errorf("a redelivered failing command:%s", Bodies(out))
	}
	// Too long: refused, the command does not run.
	for _, n := range []int{commands.MaxCommand, commands.MaxCommand + 1} {
		body := "!echo " + strings.Repeat("x", n-len("!echo "))
		got := h.Reply(Ana, body)
		if n > commands.MaxCommand {
			if want := fmt.Sprintf("That message is too long for a command (%d characters; the limit is %d).", n, commands.MaxCommand); !strings.HasPrefix(got, want) {
				t.Errorf("too long: %q", got)
			}
		} else if !strings.HasPrefix(got, "echo: xxx") {
			t.Errorf("a command of exactly the limit was not run: %.40q", got)
		}
	}
}

func TestDispatchReactions(t *testing.T) {
	h, _, _, log := toyHarness(t)
	ctx := context.Background()
	put := func(evt id.EventID, kind string, ref int64) {
		if err := h.Env.Store.Anchors().Put(ctx, evt, Room, store.Anchor{Kind: kind, Ref: ref}); err != nil {
			t.Fatal(err)
		}
	}
	put("$toy", "Toys", 7)
	put("$more", "More", 8)
	put("$none", "Nobody", 9)
	react := func(sender id.UserID, target id.EventID, key string) error {
		return h.A.HandleReaction(ctx, commands.Reaction{Room: Room, Sender: sender, Event: h.NextEvent(), Target: target, Key: key, Time: h.Clock.Now()})
	}
	for _, rx := range []struct {
		sender id.UserID
		target id.EventID
	}{{Ana, "$toy"}, {Ben, "$more"}, {Bot, "$toy"}, {Ana, "$none"}, {Ana, "$unanchored"}} {
		if err := react(rx.sender, rx.target, "👍"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"Toys: reaction 👍 on 7 by @ana:test", "More: reaction 👍 on 8 by @ben:test"}
	if !slices.Equal(*log, want) {
		t.Errorf("reactions handled: %q, want %q", *log, want)
	}
	out := h.Drain()
	if len(out) != 2 || out[0].DMUser != Ana || out[0].Msg.Body != "Toys saw your 👍" || out[1].DMUser != Ben {
		t.Errorf("reactions said:%s", Bodies(out))
	}
	// A redelivered reaction is handled once; a failing one keeps nothing.
	evt := h.NextEvent()
	for range 2 {
		if err := h.A.HandleReaction(ctx, commands.Reaction{Room: Room, Sender: Ana, Event: evt, Target: "$toy", Key: "✅"}); err != nil {
			t.Fatal(err)
		}
	}
	if out := h.Drain(); len(out) != 1 {
		t.Errorf("a redelivered reaction was handled %d times", len(out))
	}
	err := react(Ana, "$toy", "💥")
	if err == nil || !strings.Contains(err.Error(), "reaction on Toys 7: reaction failed") {
		t.Errorf("failing reaction: %v", err)
	}
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("a failed reaction's effects were kept:%s", Bodies(out))
	}
}

func TestDispatchRedactions(t *testing.T) {
	h, toys, more, log := toyHarness(t)
	toys.owns["$a"] = true
	more.owns["$b"] = true
	ctx := context.Background()
	redact := func(target id.EventID) error {
		return h.A.HandleRedaction(ctx, commands.Redaction{Room: Room, Sender: Ana, Event: h.NextEvent(), Redacts: target, Time: h.Clock.Now()})
	}
	for _, target := range []id.EventID{"$a", "$b", "$c"} {
		if err := redact(target); err != nil {
			t.Fatal(err)
		}
	}
	// The first feature that owns the event handles it; the others are
	// not asked.
	want := []string{"Toys: redaction of $a", "Toys: redaction of $b", "More: redaction of $b", "Toys: redaction of $c", "More: redaction of $c"}
	if !slices.Equal(*log, want) {
		t.Errorf("redactions: %q, want %q", *log, want)
	}
	if out := h.Drain(); len(out) != 2 || out[0].Msg.Body != "Toys withdrew $a" || out[1].Msg.Body != "More withdrew $b" {
		t.Errorf("redactions said:%s", Bodies(out))
	}
	*log = nil
	if err := redact("$fail"); err == nil || err.Error() != "redaction failed" {
		t.Errorf("failing redaction: %v", err)
	}
	if !slices.Equal(*log, []string{"Toys: redaction of $fail"}) {
		t.Errorf("after a failure: %q", *log)
	}
}

func TestDispatchLeave(t *testing.T) {
	h, _, _, log := toyHarness(t)
	ctx := context.Background()
	evt := h.NextEvent()
	for range 2 {
		if err := h.A.HandleLeave(ctx, Room, Ben, evt, h.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"Toys: @ben:test left", "More: @ben:test left"}; !slices.Equal(*log, want) {
		t.Errorf("leave: %q, want %q", *log, want)
	}
	if out := h.Drain(); len(out) != 2 || out[0].Msg.Body != "Toys: goodbye @ben:test" {
		t.Errorf("leave said:%s", Bodies(out))
	}
	*log = nil
	if err := h.A.HandleLeave(ctx, Room, "@fail:test", h.NextEvent(), h.Clock.Now()); err == nil {
		t.Error("a failing leave returned no error")
	}
	if want := []string{"Toys: @fail:test left"}; !slices.Equal(*log, want) {
		t.Errorf("after a failure: %q, want %q", *log, want)
	}
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("a failed leave's effects were kept:%s", Bodies(out))
	}
}

func TestRunDue(t *testing.T) {
	h, toys, more, log := toyHarness(t)
	now := h.Clock.Now()
	ctx := context.Background()
	for _, tc := range []struct {
		name           string
		toysAt, moreAt time.Time
		toysErr        error
		edit           time.Duration // an edit scheduled this far ahead; 0: none
		want           time.Time
	}{
		{name: "nothing scheduled", want: time.Time{}},
		{name: "one scheduled", moreAt: now.Add(time.Hour), want: now.Add(time.Hour)},
		{name: "the sooner of two", toysAt: now.Add(2 * time.Hour), moreAt: now.Add(time.Hour), want: now.Add(time.Hour)},
		{name: "the sooner, other order", toysAt: now.Add(time.Hour), moreAt: now.Add(2 * time.Hour), want: now.Add(time.Hour)},
		{name: "a failure retries in a minute", toysErr: errors.New("x"), moreAt: now.Add(time.Hour), want: now.Add(time.Minute)},
		{name: "an edit sooner than the features", toysAt: now.Add(time.Hour), edit: 10 * time.Second, want: now.Add(10 * time.Second)},
		{name: "an edit later than the features", toysAt: now.Add(time.Hour), edit: 2 * time.Hour, want: now.Add(time.Hour)},
	} {
		toys.due, toys.dueErr, more.due = tc.toysAt, tc.toysErr, tc.moreAt
		if err := h.Env.Store.Edits().Cancel(ctx, "Toys", 1); err != nil {
			t.Fatal(err)
		}
		if tc.edit > 0 {
			if err := h.Env.Store.Edits().Schedule(ctx, "Toys", 1, now.Add(tc.edit), 0); err != nil {
				t.Fatal(err)
			}
		}
		*log = nil
		if got := h.Due(); !got.Equal(tc.want) {
			t.Errorf("%s: next %v, want %v", tc.name, got, tc.want)
		}
		if !slices.Equal(*log, []string{"Toys: due", "More: due"}) {
			t.Errorf("%s: ran %q", tc.name, *log)
		}
	}
}

// TestRunDueStopping: once the bot is stopping, what fails for that reason
// is not an error to log and retry; the rest waits for the next start.
func TestRunDueStopping(t *testing.T) {
	h, toys, _, log := toyHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	toys.dueErr = context.Canceled
	if next := h.A.RunDue(ctx); !next.IsZero() {
		t.Errorf("next %v, want nothing", next)
	}
	if want := []string{"Toys: due"}; !slices.Equal(*log, want) {
		t.Errorf("ran %q, want %q", *log, want)
	}
}

func TestNoticeEdits(t *testing.T) {
	h, toys, _, log := toyHarness(t)
	ctx := context.Background()
	now := h.Clock.Now()
	for _, e := range []struct {
		kind string
		ref  int64
		at   time.Duration
	}{{"Toys", 1, 0}, {"More", 2, 0}, {"Gone", 3, 0}, {"Toys", 4, time.Minute}} {
		if err := h.Env.Store.Edits().Schedule(ctx, e.kind, e.ref, now.Add(e.at), 0); err != nil {
			t.Fatal(err)
		}
	}
	if next := h.Due(); !next.Equal(now.Add(time.Minute)) {
		t.Errorf("next %v, want the edit in a minute", next)
	}
	// Due edits in the store's order (time, kind, ref); one of a kind no
	// feature edits is dropped.
	if want := []string{"Toys: due", "More: due", "More: edit 2", "Toys: edit 1"}; !slices.Equal(*log, want) {
		t.Errorf("ran %q, want %q", *log, want)
	}
	if out := h.Drain(); len(out) != 2 || out[0].Msg.Body != "More edited 2" || out[1].Msg.Body != "Toys edited 1" {
		t.Errorf("edits said:%s", Bodies(out))
	}
	// A failing edit is retried in a minute; its effects are not kept.
	toys.editErr = errors.New("edit failed")
	h.Clock.Advance(time.Minute)
	*log = nil
	if next := h.Due(); !next.Equal(h.Clock.Now().Add(time.Minute)) {
		t.Errorf("after a failed edit, next %v, want in a minute", next)
	}
	if want := []string{"Toys: due", "More: due", "Toys: edit 4"}; !slices.Equal(*log, want) {
		t.Errorf("ran %q, want %q", *log, want)
	}
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("a failed edit's effects were kept:%s", Bodies(out))
	}
	toys.editErr = nil
	*log = nil
	if next := h.Due(); !next.IsZero() {
		t.Errorf("after the retry, next %v", next)
	}
	if want := []string{"Toys: due", "More: due", "Toys: edit 4"}; !slices.Equal(*log, want) {
		t.Errorf("retry ran %q, want %q", *log, want)
	}
}

// TestPrepare: a command's Prepare runs before its handler and may refuse;
// a message too long to be a command prepares nothing.
func TestPrepare(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!prep abc", Want: "prepared 3"},
		{From: Ana, Cmd: "!prep no", Want: "Not prepared."},
	})
	for _, n := range []int{commands.MaxCommand, commands.MaxCommand + 1} {
		body := "!prep " + strings.Repeat("x", n-len("!prep "))
		got := h.Reply(Ana, body)
		if n <= commands.MaxCommand && got != fmt.Sprintf("prepared %d", n-len("!prep ")) || n > commands.MaxCommand && !strings.HasPrefix(got, "That message is too long") {
			t.Errorf("a body of %d: %q", n, got)
		}
	}
}

// TestForgetHandled: the scheduler forgets handled events after 90 days,
// at most once an hour, and logs how many when it forgot some; a recent
// event is never forgotten, so a redelivery of it does nothing.
func TestForgetHandled(t *testing.T) {
	h, toys, more, _ := toyHarness(t)
	ctx := context.Background()
	var logged strings.Builder
	a, err := commands.New(h.Env, zerolog.New(&logged), toys, more)
	if err != nil {
		t.Fatal(err)
	}
	h.A = a
	// due runs the scheduler and checks what it logged.
	due := func(want string) {
		t.Helper()
		h.Due()
		if logged.String() != want {
			t.Errorf("logged %q, want %q", logged.String(), want)
		}
		logged.Reset()
	}
	const forgotOne = `{"level":"info","events":1,"message":"Forgot handled events older than 90 days"}` + "\n"
	t0 := h.Clock.Now()
	handle := func(evt id.EventID) int {
		t.Helper()
		if _, err := h.A.HandleMessage(ctx, commands.Message{Room: Room, Sender: Ana, Event: evt, Time: h.Clock.Now(), Body: "!echo x"}); err != nil {
			t.Fatal(err)
		}
		return len(h.Drain())
	}
	handle("$old")
	h.Clock.Advance(30 * time.Minute)
	handle("$later")
	due("") // nothing to forget
	if handle("$later") != 0 {
		t.Fatal("a recent event was forgotten")
	}
	h.Clock.Advance(t0.Add(commands.HandledKept).Sub(h.Clock.Now()) + time.Millisecond)
	due(forgotOne) // $old is forgotten now, $later (30 minutes younger) not yet
	if handle("$old") != 1 {
		t.Error("an event older than 90 days is still remembered")
	}
	if handle("$later") != 0 {
		t.Error("an event younger than 90 days was forgotten")
	}
	h.Clock.Advance(time.Hour - time.Millisecond)
	due("") // within the hour of the last prune: nothing is forgotten
	if handle("$later") != 0 {
		t.Error("forgotten within the hour of the last prune")
	}
	h.Clock.Advance(time.Millisecond)
	due(forgotOne) // an hour after the last prune
	if handle("$later") != 1 {
		t.Error("not forgotten an hour after the last prune")
	}
}
