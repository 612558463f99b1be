package rosters

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

const dmRoom = id.RoomID("!dm-ben:test")

// askSwap has ana ask ben to take her turn of 30 Nov for his of 7 Dec, and
// returns the room notice and the DM to ben.
func askSwap(t *testing.T, h *Harness) (notice, dm Sent) {
	t.Helper()
	newMinutes(t, h)
	h.Send(Ana, "!swap minutes 2026-11-30 @ben")
	out := h.Drain()
	if len(out) != 2 {
		t.Fatalf("want a notice and a DM, got %+v", out)
	}
	notice, dm = out[0], out[1]
	if notice.Room != Room || notice.Msg.Anchor == nil || notice.Msg.Anchor.Kind != anchorSwap || !slices.Contains(notice.Msg.Mentions, Ben) {
		t.Fatalf("swap notice: %+v", notice)
	}
	if dm.DMUser != Ben || dm.Room != "" || dm.Msg.Anchor == nil || *dm.Msg.Anchor != *notice.Msg.Anchor {
		t.Fatalf("swap DM: %+v", dm)
	}
	return notice, dm
}

func TestSwapByReaction(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	h.Env.Store.Users().SetTimezone(context.Background(), Ben, "America/New_York")
	notice, dm := askSwap(t, h)
	if !strings.Contains(notice.Msg.Body, "@ana:test asks you to take their minutes turn on Mon 30 Nov 18:00; in exchange they take yours on Mon 7 Dec 18:00.") ||
		!strings.Contains(notice.Msg.Body, "`!swap accept 1`") {
		t.Errorf("notice: %q", notice.Msg.Body)
	}
	if got := turnsOf(t, notice.Msg); strings.Join(got, ",") != "ben 2026-11-30T17:00:00Z,ana 2026-12-07T17:00:00Z" {
		t.Errorf("proposed turns: %v", got)
	}
	// The DM speaks to ben alone: in his zone.
	if !strings.Contains(dm.Msg.Body, "Mon 30 Nov 12:00, and they take yours on Mon 7 Dec 12:00?") {
		t.Errorf("DM not in the reader's zone: %q", dm.Msg.Body)
	}

	// Other people's reactions, and other keys, mean nothing.
	h.React(Chi, notice.EventID, "✅")
	h.React(Ben, notice.EventID, "👍")
	if out := h.Drain(); len(out) != 0 {
		t.Fatalf("a bystander's ✅ or an unrelated key did something: %+v", out)
	}
	h.React(Ben, notice.EventID, "✔️") // normalised to ✔
	done := Only(t, h.Drain())
	if done.Room != Room || !strings.Contains(done.Msg.Body, "Swapped on minutes: @ben:test takes Mon 30 Nov 18:00, @ana:test takes Mon 7 Dec 18:00.") {
		t.Fatalf("acceptance: %+v", done)
	}
	if !slices.Contains(done.Msg.Mentions, Ana) || !slices.Contains(done.Msg.Mentions, Ben) {
		t.Errorf("acceptance mentions %v", done.Msg.Mentions)
	}
	if got := turnsOf(t, done.Msg); strings.Join(got, ",") != "ben 2026-11-30T17:00:00Z,ana 2026-12-07T17:00:00Z" {
		t.Errorf("swapped turns: %v", got)
	}
	shown := h.Reply(Chi, "!roster minutes 4")
	for _, line := range []string{"Mon 30 Nov 18:00 — @ben:test (swapped)", "Mon 7 Dec 18:00 — @ana:test (swapped)", "Mon 14 Dec 18:00 — @chi:test", "Mon 21 Dec 18:00 — @ana:test"} {
		if !strings.Contains(shown, line) {
			t.Errorf("roster after the swap lacks %q:\n%s", line, shown)
		}
	}
	// Answering again does nothing more.
	h.React(Ben, notice.EventID, "❌")
	if got := Only(t, h.Drain()).Msg.Body; got != "Swap 1 was accepted already." {
		t.Errorf("second answer: %q", got)
	}
}

func TestSwapByCommand(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	askSwap(t, h)
	if got := h.Reply(Chi, "!swap accept 1"); got != "Only @ben:test can answer swap 1." {
		t.Errorf("chi accepting ben's swap: %q", got)
	}
	if got := h.Reply(Ben, "!swap decline 1"); !strings.Contains(got, "@ben:test declined swap 1: the minutes turns of Mon 30 Nov 18:00 and Mon 7 Dec 18:00 stay as they were.") {
		t.Errorf("decline: %q", got)
	}
	if got := h.Reply(Ana, "!roster minutes 1"); !strings.Contains(got, "Mon 30 Nov 18:00 — @ana:test") {
		t.Errorf("a declined swap changed the roster: %q", got)
	}
	// Ask again, and accept from the direct chat.
	h.Send(Ana, "!swap minutes 30 nov @ben")
	h.Drain()
	_, err := h.A.HandleMessage(context.Background(), commands.Message{Room: dmRoom, Sender: Ben, Event: "$dm1", Time: h.Clock.Now(), Body: "!swap accept 2", InDM: true})
	if err != nil {
		t.Fatal(err)
	}
	out := h.Drain()
	if len(out) != 2 || out[0].Room != Room || !strings.HasPrefix(out[0].Msg.Body, "Swapped on minutes") ||
		out[1].Room != dmRoom || out[1].Msg.Body != "Done; I've told the room." {
		t.Fatalf("accepting in the DM: %+v", out)
	}
}

func TestSwapMistakes(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!swap", Want: "Say the roster, the day of your turn and who you ask, e.g. `!swap minutes 2026-12-07 @ben`."},
		{From: Ana, Cmd: "!swap minutes @ben", Want: "the day of your turn"},
		{From: Ana, Cmd: "!swap minutes 2026-11-30", Want: "the day of your turn"},
		{From: Ana, Cmd: "!swap minutes 2026-11-30 @ben @chi", Want: "the day of your turn"},
		{From: Ana, Cmd: "!swap kitchen 2026-11-30 @ben", Want: "There's no roster called \"kitchen\""},
		{From: Ana, Cmd: "!swap minutes 2026-11-30 @ana", Want: "That's you!"},
		{From: Ana, Cmd: "!swap minutes 2026-12-07 @chi", Want: "The minutes turn of Mon 7 Dec 18:00 isn't yours. `!duty` shows your turns."},
		{From: Ana, Cmd: "!swap minutes 2026-12-08 @chi", Want: "There's no minutes turn on Tue 8 Dec."},
		{From: Ana, Cmd: "!swap minutes 2026-11-30 @dan", Want: "@dan:test has no upcoming minutes turn"},
		{From: Ana, Cmd: "!swap accept", Want: "Which swap?"},
		{From: Ana, Cmd: "!swap accept x", Want: "Which swap?"},
		{From: Ben, Cmd: "!swap accept 9", Want: "There's no swap request number 9 here."},
	})
}

// TestSwapLapses: a request lapses when the earlier turn begins, and one
// that no longer fits the rotation is refused.
func TestSwapLapses(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	notice, _ := askSwap(t, h)
	// ana is away on 30 Nov after all: the turns no longer match the request.
	h.Send(Ana, "!roster minutes away @ana 2026-11-30")
	h.Drain()
	h.React(Ben, notice.EventID, "✅")
	if got := Only(t, h.Drain()).Msg.Body; !strings.Contains(got, "have changed since swap 1 was asked") {
		t.Errorf("accepting a stale swap: %q", got)
	}
	h.Send(Ben, "!swap minutes 2026-11-30 @chi") // Ben now has 30 Nov
	h.Drain()
	h.Clock.Advance(5*24*time.Hour + 5*time.Hour) // Mon 30 Nov 17:00 UTC: the turn begins
	if got := h.Reply(Chi, "!swap accept 2"); got != "Swap 2 lapsed when the turn of Mon 30 Nov 18:00 began." {
		t.Errorf("accepting after the turn began: %q", got)
	}
}

// TestSwapLimit: one member's swap requests, each a DM to another member,
// are bounded per day.
func TestSwapLimit(t *testing.T) {
	h := rosterHarness(t, "UTC")
	h.SendAndDrain(Ana, "!roster new minutes every day from 2026-11-26 18:00 : @ana @ben:test")
	asked := 0
	for day := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC); asked < maxSwapsPerDay; day = day.AddDate(0, 0, 2) {
		out := h.SendAndDrain(Ana, "!swap minutes "+day.Format("2006-01-02")+" @ben")
		if len(out) != 2 {
			t.Fatalf("swap %d: %s", asked+1, Bodies(out))
		}
		asked++
	}
	Expect(t, h, Ana, "!swap minutes 2026-12-06 @ben", "You have asked for 5 swaps here in the last day")
}

// TestSwapTargetTurnMoved: the asked member marks themselves away on the
// turn they offered in exchange, so it passes to someone else; accepting
// afterwards is refused and nothing is swapped.
func TestSwapTargetTurnMoved(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	notice, _ := askSwap(t, h)
	h.Send(Ben, "!roster minutes away @ben 2026-12-07")
	h.Drain()
	h.React(Ben, notice.EventID, "✅")
	if got := Only(t, h.Drain()).Msg.Body; !strings.Contains(got, "have changed since swap 1 was asked") {
		t.Errorf("accepting after the asked member's turn moved: %q", got)
	}
	shown := h.Reply(Chi, "!roster minutes 3")
	for _, line := range []string{"Mon 30 Nov 18:00 — @ana:test", "Mon 7 Dec 18:00 — @chi:test", "Mon 14 Dec 18:00 — @ben:test"} {
		if !strings.Contains(shown, line) {
			t.Errorf("roster lacks %q:\n%s", line, shown)
		}
	}
	if strings.Contains(shown, "swapped") {
		t.Errorf("a refused swap was applied:\n%s", shown)
	}
}

// TestSwapForTheNextTurn: the asked member's turn may be the very next one;
// the request then lapses when that turn begins.
func TestSwapForTheNextTurn(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)
	h.Send(Ben, "!swap minutes 2026-12-07 @ana")
	out := h.Drain()
	if len(out) != 2 || !strings.Contains(out[0].Msg.Body, "@ben:test asks you to take their minutes turn on Mon 7 Dec 18:00; in exchange they take yours on Mon 30 Nov 18:00.") {
		t.Fatalf("request:%s", Bodies(out))
	}
	sw, ok, err := h.Env.Store.Swaps().ByNumber(context.Background(), Room, 1)
	if err != nil || !ok || !sw.ExpiresAt.Equal(time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("swap %+v (%v %v), want it to lapse when ana's turn begins", sw, ok, err)
	}
}
