package commands

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/config"
	"quorum/msg"
	"quorum/store"
)

const (
	ana = id.UserID("@ana:test")
	ben = id.UserID("@ben:test")
	chi = id.UserID("@chi:test")
	dan = id.UserID("@dan:test")
)

// openMotion proposes a motion as ana and returns its notice as sent.
func openMotion(t *testing.T, h *harness, args string) sent {
	t.Helper()
	h.send(ana, "!motion "+args)
	out := h.drain()
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
func tally(t *testing.T, h *harness, n int) Tally {
	t.Helper()
	m, ok, err := h.env.Store.Motions().ByNumber(context.Background(), testRoom, n)
	if err != nil || !ok {
		t.Fatalf("motion %d: %v %v", n, ok, err)
	}
	return Tally{m.Yes, m.No, m.Abstain}
}

func status(t *testing.T, h *harness, n int) string {
	t.Helper()
	m, _, err := h.env.Store.Motions().ByNumber(context.Background(), testRoom, n)
	if err != nil {
		t.Fatal(err)
	}
	return m.Status
}

func TestMotionOpens(t *testing.T) {
	h := newHarness(t, ana, ben, chi)
	notice := openMotion(t, h, "--threshold 2/3 --quorum 50% --closes 48h Pay the rent <b>now</b> @room")
	f := motionField(t, notice.Msg)
	if f["id"] != 1 || f["status"] != "open" || f["electorate"] != 3 || f["quorum"] != 2 || f["threshold"] != "2/3" {
		t.Errorf("quorum.motion = %v", f)
	}
	if f["text"] != "Pay the rent <b>now</b> @room" {
		t.Errorf("text = %q", f["text"])
	}
	if want := h.clock.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339); f["closes_at"] != want {
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
	h := newHarness(t, ana, ben)
	for _, tc := range []struct{ args, want string }{
		{"", "What is the motion?"},
		{"--threshold", "`--threshold` needs a value"},
		{"--threshold most Pay", "can't use \"most\" as a threshold"},
		{"--quorum 150% Pay", "can't use \"150%\" as a quorum"},
		{"--quorum 5 Pay", "A quorum of 5 can never be reached: 2 members can vote"},
		{"--closes fridya Pay", "fridya"},
		{"--frobnicate Pay", "I don't know the option `--frobnicate`"},
		{"--closes 48h", "What is the motion?"},
	} {
		got := h.reply(ana, "!motion "+tc.args)
		if !strings.Contains(got, tc.want) {
			t.Errorf("!motion %s: got %q, want it to contain %q", tc.args, got, tc.want)
		}
	}
	if pending, _ := h.env.Store.Motions().Pending(context.Background(), testRoom); len(pending) != 0 {
		t.Errorf("a bad !motion opened %d motions", len(pending))
	}
}

func TestMotionClosesOption(t *testing.T) {
	h := newHarness(t, ana, ben)
	// Fixed clock: Wednesday 25 Nov 2026, 12:00 UTC.
	for args, want := range map[string]time.Time{
		"--closes friday 18:00 Pay the rent": time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC),
		"--closes 2026-12-01 18:00 : Pay":    time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC),
		"--closes=90m Pay":                   h.clock.Now().Add(90 * time.Minute),
		"--closes 48h 2 weeks of strike pay": h.clock.Now().Add(48 * time.Hour),
	} {
		f := motionField(t, openMotion(t, h, args).Msg)
		if f["closes_at"] != want.UTC().Format(time.RFC3339) {
			t.Errorf("%s: closes_at %v, want %s", args, f["closes_at"], want)
		}
	}
}

func TestVotingByReaction(t *testing.T) {
	h := newHarness(t, ana, ben, chi, dan)
	target := openMotion(t, h, "Pay the rent").EventID

	anaYes := h.react(ana, target, "👍🏽") // skin tone: yes
	h.react(ben, target, "👎\ufe0f")      // variation selector: no
	chiYes := h.react(chi, target, "👍")  // yes...
	h.react(chi, target, "🤷‍♀️")         // ...then abstain: the latest counts
	h.react(dan, target, "🎉")            // not a vote: dan is told so, privately
	if out := h.drain(); len(out) != 1 || out[0].DMUser != dan || !strings.Contains(out[0].Msg.Body, "is not a vote") {
		t.Fatalf("dan should be told once that 🎉 is no vote: %+v", out)
	}
	h.react(botID, target, "👍") // the bot never votes
	if got := tally(t, h, 1); got != (Tally{1, 1, 1}) {
		t.Fatalf("tally = %+v, want 1/1/1", got)
	}
	// Redacting an earlier act changes nothing while a later one stands.
	h.redact(chi, chiYes)
	if got := tally(t, h, 1); got != (Tally{1, 1, 1}) {
		t.Fatalf("after redacting an older act: %+v", got)
	}
	// Withdrawing the latest act falls back to the earlier one that stands.
	benYes := h.react(ben, target, "👍")
	if got := tally(t, h, 1); got != (Tally{2, 0, 1}) {
		t.Fatalf("after ben's change: %+v", got)
	}
	h.redact(ben, benYes)
	if got := tally(t, h, 1); got != (Tally{1, 1, 1}) {
		t.Fatalf("ben's earlier 👎 should stand again, tally %+v", got)
	}
	// Only the voter's own redaction withdraws a vote.
	h.redact(ben, anaYes)
	if got := tally(t, h, 1); got != (Tally{1, 1, 1}) {
		t.Fatalf("someone else's redaction changed the tally: %+v", got)
	}
	h.drain()
	// A redelivered reaction counts once; dan's vote completes the
	// electorate, so the motion closes at once: 2 yes, 1 no, 1 abstain.
	evt := h.nextEvent()
	for range 2 {
		if err := h.a.HandleReaction(context.Background(), Reaction{Room: testRoom, Sender: dan, Event: evt, Target: target, Key: "👍", Time: h.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if got := tally(t, h, 1); got != (Tally{2, 1, 1}) {
		t.Fatalf("final tally = %+v", got)
	}
	if got := status(t, h, 1); got != string(Carried) {
		t.Fatalf("status = %s, want carried", got)
	}
	out := h.drain()
	var result *sent
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
	h.react(ana, target, "👎")
	h.react(ana, target, "🤷")
	if got := tally(t, h, 1); got != (Tally{2, 1, 1}) {
		t.Fatalf("a vote after the close changed the tally: %+v", got)
	}
	dms := 0
	for _, o := range h.drain() {
		if o.DMUser == ana && strings.Contains(o.Msg.Body, "closed") {
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
	h := newHarness(t, ana, ben, chi)
	openMotion(t, h, "Pay the rent")
	editDue := func() bool {
		t.Helper()
		m, _, err := h.env.Store.Motions().ByNumber(context.Background(), testRoom, 1)
		if err != nil {
			t.Fatal(err)
		}
		return !m.EditDueAt.IsZero()
	}
	h.reply(ben, "!vote 1 yes")
	if !editDue() {
		t.Fatal("a new vote scheduled no edit")
	}
	h.clock.Advance(time.Minute)
	h.due()
	h.drain()
	if editDue() {
		t.Fatal("the edit was not made")
	}
	h.reply(ben, "!vote 1 yes")
	if editDue() {
		t.Error("repeating a choice scheduled an edit")
	}
	h.reply(ben, "!vote 1 no")
	if !editDue() {
		t.Error("changing a vote scheduled no edit")
	}
}

func TestOutsidersAndLateJoiners(t *testing.T) {
	h := newHarness(t, ana, ben)
	target := openMotion(t, h, "Pay the rent").EventID
	h.rooms.members[testRoom] = append(h.rooms.members[testRoom], chi) // joined after the opening
	h.react(chi, target, "👍")
	h.react(chi, target, "👍")
	out := h.drain()
	if len(out) != 1 || out[0].DMUser != chi {
		t.Errorf("late joiner should be told once by DM, got %+v", out)
	}
	if got := h.reply(chi, "!vote 1 yes"); !strings.Contains(got, "only the members of the room when it opened") {
		t.Errorf("late joiner's !vote: %q", got)
	}
	if got := tally(t, h, 1); got != (Tally{}) {
		t.Fatalf("late joiner counted: %+v", got)
	}
}

func TestVoteCommand(t *testing.T) {
	h := newHarness(t, ana, ben, chi)
	openMotion(t, h, "Pay the rent")
	if got := h.reply(ben, "!vote 1 no"); got != "Your vote on motion #1: no." {
		t.Errorf("reply = %q", got)
	}
	if got := h.reply(ben, "!vote #1 yes"); got != "Your vote on motion #1: yes." {
		t.Errorf("reply = %q", got)
	}
	if got := tally(t, h, 1); got != (Tally{1, 0, 0}) {
		t.Errorf("tally = %+v", got)
	}
	for _, bad := range []string{"!vote", "!vote 1", "!vote one yes", "!vote 1 maybe", "!vote 1 yes please"} {
		if got := h.reply(ben, bad); !strings.Contains(got, "for example `!vote 3 yes`") {
			t.Errorf("%s: %q", bad, got)
		}
	}
	if got := h.reply(ben, "!vote 9 yes"); !strings.Contains(got, "There is no motion #9") {
		t.Errorf("unknown motion: %q", got)
	}
}

func TestDeadline(t *testing.T) {
	h := newHarness(t, ana, ben, chi)
	target := openMotion(t, h, "--quorum 3 --closes 2h Pay the rent").EventID
	// The first vote's edit is due at once; a burst makes one edit.
	h.react(ana, target, "👍")
	h.react(ben, target, "👍")
	h.due()
	edits := h.drain()
	if len(edits) != 1 || edits[0].Msg.Edit == nil || !strings.Contains(edits[0].Msg.Body, "2 of 3 voted") {
		t.Fatalf("want one edit showing the tally, got %+v", edits)
	}
	// The next change waits for the edit interval.
	h.react(ben, target, "👎")
	if next := h.due(); !next.Equal(h.clock.Now().Add(editInterval)) {
		t.Fatalf("next due = %v, want the tally edit in %v", next, editInterval)
	}
	if out := h.drain(); len(out) != 0 {
		t.Fatalf("edited before the interval: %+v", out)
	}
	h.clock.Advance(editInterval)
	h.due()
	if edits := h.drain(); len(edits) != 1 || !strings.Contains(edits[0].Msg.Body, "1 yes · 1 no") {
		t.Fatalf("want the throttled edit, got %+v", edits)
	}
	// A vote cast after the deadline but seen before the close is refused.
	h.clock.Advance(2 * time.Hour)
	h.react(chi, target, "👍")
	if got := tally(t, h, 1); got != (Tally{1, 1, 0}) {
		t.Fatalf("late vote counted: %+v", got)
	}
	if next := h.due(); !next.IsZero() {
		t.Errorf("something still scheduled after the close: %v", next)
	}
	if got := status(t, h, 1); got != string(NoQuorum) {
		t.Fatalf("status = %s, want no_quorum", got)
	}
	h.due() // a second run closes nothing twice
	results := 0
	for _, o := range h.drain() {
		if strings.Contains(o.Msg.Body, "No quorum 1–1") {
			results++
		}
	}
	if results != 2 { // the result reply and the notice's final edit
		t.Errorf("result said %d times, want 2 (reply + edit)", results)
	}
}

func TestCloseAndWithdraw(t *testing.T) {
	h := newHarness(t, ana, ben, chi)
	openMotion(t, h, "Pay the rent")
	if got := h.reply(ben, "!close 1"); !strings.Contains(got, "Only a room moderator") {
		t.Errorf("non-proposer close: %q", got)
	}
	if got := h.reply(ana, "!close 1"); !strings.Contains(got, "stays open until everyone has voted (0 of 3") {
		t.Errorf("proposer early close: %q", got)
	}
	if got := h.reply(ben, "!withdraw 1"); !strings.Contains(got, "Only the proposer") {
		t.Errorf("non-proposer withdraw: %q", got)
	}
	h.rooms.power[chi] = 50
	h.send(chi, "!vote 1 yes")
	h.send(chi, "!close 1")
	if got := status(t, h, 1); got != string(Carried) {
		t.Fatalf("moderator close: status %s", got)
	}
	h.drain()
	openMotion(t, h, "Second")
	h.send(ana, "!withdraw 2")
	if got := status(t, h, 2); got != store.MotionWithdrawn {
		t.Fatalf("withdraw: status %s", got)
	}
	h.drain()
	if got := h.reply(ana, "!withdraw 2"); !strings.Contains(got, "already withdrawn") {
		t.Errorf("second withdraw: %q", got)
	}
	if got := h.reply(ana, "!vote 2 yes"); !strings.Contains(got, "closed") {
		t.Errorf("vote on withdrawn: %q", got)
	}
}

func TestSeconding(t *testing.T) {
	h := newHarness(t, ana, ben, chi)
	h.env.Config.Motions.RequireSecond = true
	h.send(ana, "!motion --closes 1h Pay the rent")
	out := h.drain()
	if len(out) != 1 || !strings.Contains(out[0].Msg.Body, "needs a second") || motionField(t, out[0].Msg)["status"] != "awaiting_second" {
		t.Fatalf("want an awaiting-second notice, got %+v", out)
	}
	target := out[0].EventID
	h.react(ben, target, "👍")
	if got := tally(t, h, 1); got != (Tally{}) {
		t.Fatalf("vote counted before seconding: %+v", got)
	}
	if out := h.drain(); len(out) != 1 || out[0].DMUser != ben || !strings.Contains(out[0].Msg.Body, "needs a second") {
		t.Fatalf("ben should be told the motion is not open yet: %+v", out)
	}
	if got := h.reply(ana, "!second 1"); !strings.Contains(got, "someone other than its proposer") {
		t.Errorf("self-second: %q", got)
	}
	h.clock.Advance(30 * time.Minute)
	h.send(chi, "!second 1")
	opened := h.drain()
	if len(opened) != 1 || motionField(t, opened[0].Msg)["status"] != "open" {
		t.Fatalf("seconding should post the open notice: %+v", opened)
	}
	// The relative deadline counts from the opening.
	if want := h.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339); motionField(t, opened[0].Msg)["closes_at"] != want {
		t.Errorf("closes_at = %v, want %s", motionField(t, opened[0].Msg)["closes_at"], want)
	}
	h.react(ben, target, "👍")
	if got := tally(t, h, 1); got != (Tally{1, 0, 0}) {
		t.Fatalf("after seconding: %+v", got)
	}
}

func TestMotionsList(t *testing.T) {
	h := newHarness(t, ana, ben)
	if got := h.reply(ana, "!motions"); !strings.Contains(got, "No open motions") {
		t.Errorf("empty list: %q", got)
	}
	openMotion(t, h, "--closes 2h Pay the rent")
	h.send(ben, "!vote 1 yes")
	h.drain()
	got := h.reply(ana, "!motions")
	if !strings.Contains(got, "#1 Pay the rent — 1 of 2 voted, closes in 2h") {
		t.Errorf("list: %q", got)
	}
	if got := h.reply(ana, "!motion 1"); !strings.Contains(got, "Tally: 1 yes") {
		t.Errorf("show: %q", got)
	}
}

func TestCheckConfig(t *testing.T) {
	cfg := testConfig(t)
	if err := CheckConfig(cfg); err != nil {
		t.Fatalf("defaults rejected: %v", err)
	}
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
}
