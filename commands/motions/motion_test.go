package motions

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/config"
	"quorum/msg"
	"quorum/store"
)

// openMotion proposes a motion as ana and returns its notice as sent.
func openMotion(t *testing.T, h *Harness, args string) Sent {
	t.Helper()
	h.Send(Ana, "!motion "+args)
	out := h.Drain()
	if len(out) != 1 || out[0].Msg.Anchor == nil || out[0].Msg.Anchor.Kind != anchorMotion {
		t.Fatalf("want one motion notice, got %+v", out)
	}
	return out[0]
}

// motionField returns the notice's quorum.motion field, with JSON numbers
// made ints so they compare with int literals.
func motionField(t *testing.T, m msg.Message) map[string]any {
	t.Helper()
	f, ok := m.Fields["quorum.motion"].(map[string]any)
	if !ok {
		t.Fatalf("no quorum.motion in %+v", m)
	}
	for k, v := range f {
		if n, ok := v.(float64); ok {
			f[k] = int(n)
		}
	}
	return f
}

// tally reads the motion's stored standing tally.
func tally(t *testing.T, h *Harness, n int) Tally {
	t.Helper()
	m, ok, err := h.Env.Store.Motions().ByNumber(context.Background(), Room, n)
	if err != nil || !ok {
		t.Fatalf("motion %d: %v %v", n, ok, err)
	}
	return Tally{m.Yes, m.No, m.Abstain}
}

func status(t *testing.T, h *Harness, n int) store.MotionStatus {
	t.Helper()
	m, _, err := h.Env.Store.Motions().ByNumber(context.Background(), Room, n)
	if err != nil {
		t.Fatal(err)
	}
	return m.Status
}

func TestMotionOpens(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	notice := openMotion(t, h, "--threshold 2/3 --quorum 50% --closes 48h Pay the rent <b>now</b> @room")
	f := motionField(t, notice.Msg)
	if f["id"] != 1 || f["status"] != "open" || f["electorate"] != 3 || f["quorum"] != 2 || f["threshold"] != "2/3" {
		t.Errorf("quorum.motion = %v", f)
	}
	if f["text"] != "Pay the rent <b>now</b> @room" {
		t.Errorf("text = %q", f["text"])
	}
	if want := h.Clock.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339); f["closes_at"] != want {
		t.Errorf("closes_at = %v, want %s", f["closes_at"], want)
	}
	if strings.Contains(notice.Msg.HTML, "<b>") || strings.Contains(notice.Msg.Body, "@room") {
		t.Errorf("user markup or @room leaked: %q / %q", notice.Msg.HTML, notice.Msg.Body)
	}
	for _, want := range []string{"Motion #1", "👍 yes", "!vote 1 yes|no|abstain", "quorum 2 of 3", "0 of 3 voted"} {
		if !strings.Contains(notice.Msg.Body, want) {
			t.Errorf("notice lacks %q:\n%s", want, notice.Msg.Body)
		}
	}
	// Numbers go up per room.
	if f := motionField(t, openMotion(t, h, "Second one").Msg); f["id"] != 2 {
		t.Errorf("second motion id = %v", f["id"])
	}
}

func TestMotionBadOptions(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	for _, tc := range []struct{ args, want string }{
		{"", "What is the motion?"},
		{"--threshold", "`--threshold` needs a value"},
		{"--threshold most Pay", "can't use \"most\" as a threshold"},
		{"--quorum 150% Pay", "can't use \"150%\" as a quorum"},
		{"--quorum 5 Pay", "A quorum of 5 can never be reached: 2 members can vote"},
		{"--closes fridya Pay", "fridya"},
		{"--closes fridya at noon Pay", `couldn't read "fridya" as`},
		{"Pay " + strings.Repeat("x", maxMotionText), fmt.Sprintf("That motion is %d characters long; the limit is %d.", maxMotionText+4, maxMotionText)},
		{"--frobnicate Pay", "I don't know the option `--frobnicate`"},
		{"--closes 48h", "What is the motion?"},
	} {
		got := h.Reply(Ana, "!motion "+tc.args)
		if !strings.Contains(got, tc.want) {
			t.Errorf("!motion %.60s: got %q, want it to contain %q", tc.args, got, tc.want)
		}
	}
	if pending, _ := h.Env.Store.Motions().Pending(context.Background(), Room); len(pending) != 0 {
		t.Errorf("a bad !motion opened %d motions", len(pending))
	}
}

func TestMotionClosesOption(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	// Fixed clock: Wednesday 25 Nov 2026, 12:00 UTC.
	for args, want := range map[string]time.Time{
		"--closes friday 18:00 Pay the rent": time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC),
		"--closes 2026-12-01 18:00 : Pay":    time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC),
		"--closes=90m Pay":                   h.Clock.Now().Add(90 * time.Minute),
		"--closes 48h 2 weeks of strike pay": h.Clock.Now().Add(48 * time.Hour),
	} {
		f := motionField(t, openMotion(t, h, args).Msg)
		if f["closes_at"] != want.UTC().Format(time.RFC3339) {
			t.Errorf("%s: closes_at %v, want %s", args, f["closes_at"], want)
		}
	}
}

func TestVotingByReaction(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	target := openMotion(t, h, "Pay the rent").EventID

	anaYes := h.React(Ana, target, "👍🏽") // skin tone: yes
	h.React(Ben, target, "👎\ufe0f")      // variation selector: no
	chiYes := h.React(Chi, target, "👍")  // yes...
	h.React(Chi, target, "🤷‍♀️")         // ...then abstain: the latest counts
	h.React(Dan, target, "🎉")            // not a vote: Dan is told so, privately
	if out := h.Drain(); len(out) != 1 || out[0].DMUser != Dan || !strings.Contains(out[0].Msg.Body, "is not a vote") {
		t.Fatalf("dan should be told once that 🎉 is no vote: %+v", out)
	}
	h.React(Bot, target, "👍") // the bot never votes
	if got := tally(t, h, 1); got != (Tally{1, 1, 1}) {
		t.Fatalf("tally = %+v, want 1/1/1", got)
	}
	// Redacting an earlier act changes nothing while a later one stands.
	h.Redact(Chi, chiYes)
	if got := tally(t, h, 1); got != (Tally{1, 1, 1}) {
		t.Fatalf("after redacting an older act: %+v", got)
	}
	// Withdrawing the latest act falls back to the earlier one that stands.
	benYes := h.React(Ben, target, "👍")
	if got := tally(t, h, 1); got != (Tally{2, 0, 1}) {
		t.Fatalf("after ben's change: %+v", got)
	}
	h.Redact(Ben, benYes)
	if got := tally(t, h, 1); got != (Tally{1, 1, 1}) {
		t.Fatalf("ben's earlier 👎 should stand again, tally %+v", got)
	}
	// Only the voter's own redaction withdraws a vote.
	h.Redact(Ben, anaYes)
	if got := tally(t, h, 1); got != (Tally{1, 1, 1}) {
		t.Fatalf("someone else's redaction changed the tally: %+v", got)
	}
	// A redaction acts only in its own room.
	elsewhere := commands.Redaction{Room: "!other:test", Sender: Ana, Event: h.NextEvent(), Redacts: anaYes, Time: h.Clock.Now()}
	if err := h.A.HandleRedaction(context.Background(), elsewhere); err != nil {
		t.Fatal(err)
	}
	if got := tally(t, h, 1); got != (Tally{1, 1, 1}) {
		t.Fatalf("a redaction sent in another room changed the tally: %+v", got)
	}
	h.Drain()
	// A redelivered reaction counts once; dan's vote completes the
	// electorate, so the motion closes at once: 2 yes, 1 no, 1 abstain.
	evt := h.NextEvent()
	for range 2 {
		if err := h.A.HandleReaction(context.Background(), commands.Reaction{Room: Room, Sender: Dan, Event: evt, Target: target, Key: "👍", Time: h.Clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if got := tally(t, h, 1); got != (Tally{2, 1, 1}) {
		t.Fatalf("final tally = %+v", got)
	}
	if got := status(t, h, 1); got != Carried {
		t.Fatalf("status = %s, want carried", got)
	}
	out := h.Drain()
	var result *Sent
	for i := range out {
		if out[i].Msg.ReplyToAnchor != nil {
			result = &out[i]
		}
	}
	if result == nil {
		t.Fatalf("no result posted: %+v", out)
	}
	if !strings.Contains(result.Msg.Body, "Carried 2–1, 1 abstention; 4 of 4 voted, quorum 0") {
		t.Errorf("result = %q", result.Msg.Body)
	}
	if f := motionField(t, result.Msg); f["status"] != "carried" || f["yes"] != 2 || f["no"] != 1 || f["abstain"] != 1 {
		t.Errorf("result quorum.motion = %v", f)
	}
	// A reaction after the close is refused, privately, once.
	h.React(Ana, target, "👎")
	h.React(Ana, target, "🤷")
	if got := tally(t, h, 1); got != (Tally{2, 1, 1}) {
		t.Fatalf("a vote after the close changed the tally: %+v", got)
	}
	dms := 0
	for _, o := range h.Drain() {
		if o.DMUser == Ana && strings.Contains(o.Msg.Body, "closed") {
			dms++
		}
	}
	if dms != 1 {
		t.Errorf("ana was told %d times that the motion is closed, want once", dms)
	}
}

// TestEditOnlyWhenTallyMoves: the notice is edited after a vote that
// moves the tally, not after one that repeats the voter's choice.
func TestEditOnlyWhenTallyMoves(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	openMotion(t, h, "Pay the rent")
	editDue := func() bool {
		t.Helper()
		next, err := h.Env.Store.Edits().Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return !next.IsZero()
	}
	h.Reply(Ben, "!vote 1 yes")
	if !editDue() {
		t.Fatal("a new vote scheduled no edit")
	}
	h.Clock.Advance(time.Minute)
	h.Due()
	h.Drain()
	if editDue() {
		t.Fatal("the edit was not made")
	}
	h.Reply(Ben, "!vote 1 yes")
	if editDue() {
		t.Error("repeating a choice scheduled an edit")
	}
	h.Reply(Ben, "!vote 1 no")
	if !editDue() {
		t.Error("changing a vote scheduled no edit")
	}
}

func TestOutsidersAndLateJoiners(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	target := openMotion(t, h, "Pay the rent").EventID
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], Chi) // joined after the opening
	h.React(Chi, target, "👍")
	h.React(Chi, target, "👍")
	out := h.Drain()
	if len(out) != 1 || out[0].DMUser != Chi {
		t.Errorf("late joiner should be told once by DM, got %+v", out)
	}
	if got := h.Reply(Chi, "!vote 1 yes"); !strings.Contains(got, "only the members of the room when it opened") {
		t.Errorf("late joiner's !vote: %q", got)
	}
	if got := tally(t, h, 1); got != (Tally{}) {
		t.Fatalf("late joiner counted: %+v", got)
	}
}

func TestVoteCommand(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	openMotion(t, h, "Pay the rent")
	if got := h.Reply(Ben, "!vote 1 no"); got != "Your vote on motion #1: no." {
		t.Errorf("reply = %q", got)
	}
	if got := h.Reply(Ben, "!vote #1 yes"); got != "Your vote on motion #1: yes." {
		t.Errorf("reply = %q", got)
	}
	if got := tally(t, h, 1); got != (Tally{1, 0, 0}) {
		t.Errorf("tally = %+v", got)
	}
	for _, bad := range []string{"!vote", "!vote 1", "!vote one yes", "!vote 1 maybe", "!vote 1 yes please"} {
		if got := h.Reply(Ben, bad); !strings.Contains(got, "for example `!vote 3 yes`") {
			t.Errorf("%s: %q", bad, got)
		}
	}
	if got := h.Reply(Ben, "!vote 9 yes"); !strings.Contains(got, "There is no motion #9") {
		t.Errorf("unknown motion: %q", got)
	}
}

func TestDeadline(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	target := openMotion(t, h, "--quorum 3 --closes 2h Pay the rent").EventID
	// The first vote's edit is due at once; a burst makes one edit.
	h.React(Ana, target, "👍")
	h.React(Ben, target, "👍")
	h.Due()
	edits := h.Drain()
	if len(edits) != 1 || edits[0].Msg.Edit == nil || !strings.Contains(edits[0].Msg.Body, "2 of 3 voted") {
		t.Fatalf("want one edit showing the tally, got %+v", edits)
	}
	// The next change waits for the edit interval.
	h.React(Ben, target, "👎")
	if next := h.Due(); !next.Equal(h.Clock.Now().Add(editInterval)) {
		t.Fatalf("next due = %v, want the tally edit in %v", next, editInterval)
	}
	if out := h.Drain(); len(out) != 0 {
		t.Fatalf("edited before the interval: %+v", out)
	}
	h.Clock.Advance(editInterval)
	h.Due()
	if edits := h.Drain(); len(edits) != 1 || !strings.Contains(edits[0].Msg.Body, "1 yes · 1 no") {
		t.Fatalf("want the throttled edit, got %+v", edits)
	}
	// A vote cast after the deadline but seen before the close is refused.
	h.Clock.Advance(2 * time.Hour)
	h.React(Chi, target, "👍")
	if got := tally(t, h, 1); got != (Tally{1, 1, 0}) {
		t.Fatalf("late vote counted: %+v", got)
	}
	if next := h.Due(); !next.IsZero() {
		t.Errorf("something still scheduled after the close: %v", next)
	}
	if got := status(t, h, 1); got != NoQuorum {
		t.Fatalf("status = %s, want no_quorum", got)
	}
	h.Due() // a second run closes nothing twice
	results := 0
	for _, o := range h.Drain() {
		if strings.Contains(o.Msg.Body, "No quorum 1–1") {
			results++
		}
	}
	if results != 2 { // the result reply and the notice's final edit
		t.Errorf("result said %d times, want 2 (reply + edit)", results)
	}
}

func TestCloseAndWithdraw(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	openMotion(t, h, "Pay the rent")
	if got := h.Reply(Ben, "!close 1"); !strings.Contains(got, "Only a room moderator") {
		t.Errorf("non-proposer close: %q", got)
	}
	if got := h.Reply(Ana, "!close 1"); !strings.Contains(got, "stays open until everyone has voted (0 of 3") {
		t.Errorf("proposer early close: %q", got)
	}
	if got := h.Reply(Ben, "!withdraw 1"); !strings.Contains(got, "Only the proposer") {
		t.Errorf("non-proposer withdraw: %q", got)
	}
	h.Rooms.Power[Chi] = 50
	h.Send(Chi, "!vote 1 yes")
	h.Send(Chi, "!close 1")
	if got := status(t, h, 1); got != Carried {
		t.Fatalf("moderator close: status %s", got)
	}
	h.Drain()
	openMotion(t, h, "Second")
	h.Send(Ana, "!withdraw 2")
	if got := status(t, h, 2); got != store.MotionWithdrawn {
		t.Fatalf("withdraw: status %s", got)
	}
	h.Drain()
	if got := h.Reply(Ana, "!withdraw 2"); !strings.Contains(got, "already withdrawn") {
		t.Errorf("second withdraw: %q", got)
	}
	if got := h.Reply(Ana, "!vote 2 yes"); !strings.Contains(got, "closed") {
		t.Errorf("vote on withdrawn: %q", got)
	}
}

func TestSeconding(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	h.Env.Config.Motions.RequireSecond = true
	h.Send(Ana, "!motion --closes 1h Pay the rent")
	out := h.Drain()
	if len(out) != 1 || !strings.Contains(out[0].Msg.Body, "needs a second") || motionField(t, out[0].Msg)["status"] != "awaiting_second" {
		t.Fatalf("want an awaiting-second notice, got %+v", out)
	}
	target := out[0].EventID
	h.React(Ben, target, "👍")
	if got := tally(t, h, 1); got != (Tally{}) {
		t.Fatalf("vote counted before seconding: %+v", got)
	}
	if out := h.Drain(); len(out) != 1 || out[0].DMUser != Ben || !strings.Contains(out[0].Msg.Body, "needs a second") {
		t.Fatalf("ben should be told the motion is not open yet: %+v", out)
	}
	if got := h.Reply(Ana, "!second 1"); !strings.Contains(got, "someone other than its proposer") {
		t.Errorf("self-second: %q", got)
	}
	h.Clock.Advance(30 * time.Minute)
	h.Send(Chi, "!second 1")
	opened := h.Drain()
	if len(opened) != 1 || motionField(t, opened[0].Msg)["status"] != "open" {
		t.Fatalf("seconding should post the open notice: %+v", opened)
	}
	// The relative deadline counts from the opening.
	if want := h.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339); motionField(t, opened[0].Msg)["closes_at"] != want {
		t.Errorf("closes_at = %v, want %s", motionField(t, opened[0].Msg)["closes_at"], want)
	}
	h.React(Ben, target, "👍")
	if got := tally(t, h, 1); got != (Tally{1, 0, 0}) {
		t.Fatalf("after seconding: %+v", got)
	}
}

func TestMotionsList(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	if got := h.Reply(Ana, "!motions"); !strings.Contains(got, "No open motions") {
		t.Errorf("empty list: %q", got)
	}
	openMotion(t, h, "--closes 2h Pay the rent")
	h.Send(Ben, "!vote 1 yes")
	h.Send(Chi, "!vote 1 no")
	h.Send(Dan, "!vote 1 abstain")
	h.Drain()
	got := h.Reply(Ana, "!motions")
	if !strings.Contains(got, "#1 Pay the rent — 3 of 4 voted, closes in 2h") {
		t.Errorf("list: %q", got)
	}
	if got := h.Reply(Ana, "!motion 1"); !strings.Contains(got, "Tally: 1 yes · 1 no · 1 abstain — 3 of 4 voted") {
		t.Errorf("show: %q", got)
	}
}

func TestCheckConfig(t *testing.T) {
	cfg := Config(t)
	if err := CheckConfig(cfg); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
	cfg.Rooms = []config.Room{{ID: "!r:x", Motions: config.RoomMotions{Quorum: "half"}}}
	if err := CheckConfig(cfg); err == nil || !strings.Contains(err.Error(), `quorum "half" in the motions of room !r:x`) {
		t.Errorf("a room's bad quorum: %v", err)
	}
	cfg.Rooms = nil
	cfg.Motions.Quorum = "half"
	if err := CheckConfig(cfg); err == nil || !strings.Contains(err.Error(), `quorum "half" in motions:`) {
		t.Errorf("a bad default quorum: %v", err)
	}
	cfg.Motions.Quorum = "0"
	for name, mutate := range map[string]func(){
		"threshold": func() { cfg.Motions.Threshold = "most" },
		"quorum":    func() { cfg.Motions.Quorum = "half" },
		"closes":    func() { cfg.Motions.Closes = "friday" },
		"room":      func() { cfg.Rooms = []config.Room{{ID: "!r:x", Motions: config.RoomMotions{Threshold: "1/2"}}} },
		"emoji":     func() { cfg.Motions.Abstain = nil },
	} {
		saved := *cfg
		mutate()
		err := CheckConfig(cfg)
		var cfgErr *config.Error
		if !errors.As(err, &cfgErr) {
			t.Errorf("%s: want a config error, got %v", name, err)
		}
		*cfg = saved
	}
	// motions.settle: from 0s to 10m, both ends included.
	for settle, ok := range map[string]bool{"0s": true, "10m": true, "-1s": false, "10m1s": false, "soon": false} {
		cfg.Motions.Settle = settle
		if err := CheckConfig(cfg); (err == nil) != ok {
			t.Errorf("motions.settle %q: %v", settle, err)
		}
	}
}

// TestRedactionAfterDeadline: a redaction that arrives after the deadline,
// before the scheduler closed the motion, withdraws nothing: the result
// stands as it was at the deadline. A vote and a redaction at exactly the
// deadline still count, and the motion closes at exactly its deadline.
func TestRedactionAfterDeadline(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan) // dan does not vote
	notice := openMotion(t, h, "--closes 2h Pay the rent")
	deadline := h.Clock.Now().Add(2 * time.Hour)
	anaYes := h.React(Ana, notice.EventID, "👍")
	benYes := h.React(Ben, notice.EventID, "👍")
	chiNo := h.React(Chi, notice.EventID, "👎")
	h.Redact(Chi, chiNo) // withdrawn in time: chi has no vote
	h.Clock.Advance(2 * time.Hour)
	h.Redact(Ben, benYes) // at the deadline: still in time
	if got := tally(t, h, 1); got != (Tally{1, 0, 0}) {
		t.Fatalf("tally before the deadline = %+v, want 1/0/0", got)
	}
	h.Clock.Advance(time.Second)
	h.Redact(Ana, anaYes) // after the deadline: too late
	if got := tally(t, h, 1); got != (Tally{1, 0, 0}) {
		t.Fatalf("a redaction after the deadline changed the tally: %+v", got)
	}
	h.Clock.Advance(-time.Second)
	if out := h.AdvanceTo(deadline); len(Saying(out, "Carried 1–0")) != 2 {
		t.Fatalf("want the motion carried 1–0 at its deadline (result and edit), got:%s", Bodies(out))
	}
	if got := status(t, h, 1); got != Carried {
		t.Errorf("status = %s, want carried", got)
	}
}

// TestRedactionAfterClose: once a motion is decided, redacting a vote
// changes neither its counts nor its result.
func TestRedactionAfterClose(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	notice := openMotion(t, h, "--closes 2h Pay the rent")
	anaYes := h.React(Ana, notice.EventID, "👍")
	h.React(Ben, notice.EventID, "👎")
	h.React(Chi, notice.EventID, "👍") // everyone has voted: it closes now
	if got := status(t, h, 1); got != Carried {
		t.Fatalf("status = %s, want carried", got)
	}
	h.Drain()
	h.Redact(Ana, anaYes)
	if got := tally(t, h, 1); got != (Tally{2, 1, 0}) {
		t.Errorf("a redaction after the close changed the tally: %+v", got)
	}
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("a redaction after the close sent:%s", Bodies(out))
	}
	if got := status(t, h, 1); got != Carried {
		t.Errorf("status = %s, want carried", got)
	}
}

// TestLongestMotionAndOwnEmoji: a motion of exactly the longest text opens,
// and its notice shows the room's own reactions.
func TestLongestMotionAndOwnEmoji(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	h.Env.Config.Motions.Yes, h.Env.Config.Motions.No, h.Env.Config.Motions.Abstain = []string{"✅", "👍"}, []string{"❌"}, []string{"🫥"}
	text := strings.Repeat("x", maxMotionText)
	notice := openMotion(t, h, text)
	if f := motionField(t, notice.Msg); f["text"] != text {
		t.Errorf("text of %d characters", len(f["text"].(string)))
	}
	if !strings.Contains(notice.Msg.Body, "✅ yes") || !strings.Contains(notice.Msg.Body, "❌ no") || !strings.Contains(notice.Msg.Body, "🫥 abstain") {
		t.Errorf("notice does not show the room's reactions:\n%.300s", notice.Msg.Body[len(notice.Msg.Body)-300:])
	}
}

// TestNotAVoteOnClosedOrSecret: an unknown emoji on a closed or a secret
// motion is not answered (only on an open one, where it may be meant as a
// vote).
func TestNotAVoteOnClosedOrSecret(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	closed := openMotion(t, h, "Pay the rent").EventID
	h.Send(Ana, "!withdraw 1")
	h.Drain()
	h.React(Ben, closed, "🎉")
	h.Send(Ana, "!motion --secret Strike")
	var secret Sent
	for _, o := range h.Drain() {
		if o.Msg.Anchor != nil {
			secret = o
		}
	}
	h.React(Ben, secret.EventID, "🎉")
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("an unknown emoji was answered:%s", Bodies(out))
	}
}

// TestMotionsListShortens: a long text is cut to 60 characters; one that
// awaits a second says so.
func TestMotionsListShortens(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	sixty := strings.Repeat("é", 60)
	openMotion(t, h, "--closes 2h "+sixty)
	openMotion(t, h, "--closes 2h "+sixty+"x")
	h.Env.Config.Motions.RequireSecond = true
	openMotion(t, h, "Needs a second")
	got := h.Reply(Ana, "!motions")
	for _, want := range []string{"#1 " + sixty + " — 0 of 2 voted", "#2 " + strings.Repeat("é", 59) + "… — 0 of 2 voted", "#3 Needs a second — awaiting a second"} {
		if !strings.Contains(got, want) {
			t.Errorf("list lacks %q:\n%s", want, got)
		}
	}
}

// TestNoTallyEditAfterClose: a tally edit still queued when the motion
// closes is not made: the close already gave the notice its final state.
func TestNoTallyEditAfterClose(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	openMotion(t, h, "Pay the rent")
	h.Reply(Ben, "!vote 1 yes")
	h.Clock.Advance(time.Second)
	h.Rooms.Power[Chi] = 50
	h.Send(Chi, "!vote 1 no")
	h.Send(Chi, "!close 1")
	if out := h.Drain(); len(Saying(out, "Carried")) != 0 || len(Saying(out, "Failed 1–1")) != 2 {
		t.Fatalf("want the result and the final edit:%s", Bodies(out))
	}
	h.Clock.Advance(editInterval)
	h.Due()
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("edited after the close:%s", Bodies(out))
	}
}

// TestRecountWins: a motion's result is the recount of its acts, not its
// standing counters (a cache of them); a difference is logged, as the bug it
// would be, and a close where they agree logs nothing.
func TestRecountWins(t *testing.T) {
	var logged strings.Builder
	h := newLoggingHarness(t, zerolog.New(&logged), Ana, Ben, Chi)
	const differed = "Standing tally differed"
	openMotion(t, h, "Buy a kettle")
	votes(t, h, 1, string(Ana)+" yes", string(Ben)+" no", string(Chi)+" abstain")
	if got := status(t, h, 1); got != Failed || strings.Contains(logged.String(), differed) {
		t.Fatalf("a close with the counters right: %s, logged %s", got, logged.String())
	}

	openMotion(t, h, "--closes 2h Buy a teapot")
	votes(t, h, 2, string(Ana)+" yes", string(Ben)+" yes")
	if _, err := h.Env.Store.DB.Exec(context.Background(), "UPDATE motions SET yes=0, no=2 WHERE number=2"); err != nil {
		t.Fatal(err)
	}
	One(t, h.AdvanceTo(h.Clock.Now().Add(2*time.Hour)), "Motion #2: Carried 2–0")
	if !strings.Contains(logged.String(), differed) {
		t.Errorf("the difference was not logged: %s", logged.String())
	}
}
