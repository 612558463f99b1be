package commands

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/msg"
)

// ana, ben, chi and dan are declared in motion_test.go.

// rosterHarness is a harness whose room shows times in zone, with ana, ben,
// chi and dan in it. Its clock starts on Wednesday 25 November 2026, 12:00 UTC.
func rosterHarness(t *testing.T, zone string) *harness {
	t.Helper()
	h := newHarness(t, ana, ben, chi, dan)
	h.env.Config.Timezone = zone
	return h
}

// turnsOf renders m's quorum.roster turns as "ana 2026-11-30T17:00:00Z".
func turnsOf(t *testing.T, m msg.Message) []string {
	t.Helper()
	field, ok := m.Fields["quorum.roster"].(map[string]any)
	if !ok {
		t.Fatalf("no quorum.roster in %q", m.Body)
	}
	var out []string
	list, _ := field["turns"].([]any)
	for _, x := range list {
		turn := x.(map[string]any)
		local, _, _ := id.UserID(turn["user_id"].(string)).Parse()
		out = append(out, local+" "+turn["starts_at"].(string))
	}
	return out
}

// only returns the single message sent, failing otherwise.
func only(t *testing.T, out []sent) sent {
	t.Helper()
	if len(out) != 1 {
		t.Fatalf("want 1 message, got %d: %+v", len(out), out)
	}
	return out[0]
}

// newMinutes creates the minutes roster: Mondays 18:00 from 30 November.
func newMinutes(t *testing.T, h *harness) sent {
	t.Helper()
	h.send(ana, "!roster new minutes every week from monday 18:00 : @ana @ben:test, @chi")
	return only(t, h.drain())
}

func TestRosterCreateAndShow(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	created := newMinutes(t, h)
	if !strings.Contains(created.Msg.Body, "Created the minutes roster: every week, 3 members, times in Europe/Berlin.") {
		t.Errorf("reply: %q", created.Msg.Body)
	}
	want := []string{"ana 2026-11-30T17:00:00Z", "ben 2026-12-07T17:00:00Z", "chi 2026-12-14T17:00:00Z",
		"ana 2026-12-21T17:00:00Z", "ben 2026-12-28T17:00:00Z", "chi 2027-01-04T17:00:00Z"}
	if got := turnsOf(t, created.Msg); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("turns = %v, want %v", got, want)
	}
	if !strings.Contains(created.Msg.Body, "Mon 30 Nov 18:00 — @ana:test") {
		t.Errorf("turns not shown in the room's zone: %q", created.Msg.Body)
	}
	for _, u := range []id.UserID{ana, ben, chi} {
		if !containsID(created.Msg.Mentions, u) {
			t.Errorf("creation does not mention %s: %v", u, created.Msg.Mentions)
		}
	}
	h.send(ben, "!roster MINUTES 2")
	shown := only(t, h.drain())
	if got := turnsOf(t, shown.Msg); strings.Join(got, ",") != strings.Join(want[:2], ",") {
		t.Errorf("!roster minutes 2 = %v", got)
	}
	if len(shown.Msg.Mentions) != 1 || shown.Msg.Mentions[0] != ben {
		t.Errorf("showing a roster pings %v; want only the asker", shown.Msg.Mentions)
	}
	if got := h.reply(chi, "!rosters"); !strings.Contains(got, "minutes — every week; next Mon 30 Nov 18:00, @ana:test") {
		t.Errorf("!rosters: %q", got)
	}
	if got := h.reply(chi, "!duty"); !strings.Contains(got, "Mon 14 Dec 18:00 — minutes") || strings.Contains(got, "Mon 30 Nov") {
		t.Errorf("!duty for chi: %q", got)
	}
	if got := h.reply(dan, "!duty"); !strings.Contains(got, "You have no upcoming turns") {
		t.Errorf("!duty for someone on no roster: %q", got)
	}
}

// replyCase is a command and what its one-line reply must contain.
type replyCase struct {
	from      id.UserID
	cmd, want string
}

// expectReplies sends each command and checks its reply: one line, with
// the expected text, not an internal error.
func expectReplies(t *testing.T, h *harness, cases []replyCase) {
	t.Helper()
	for _, tc := range cases {
		got := h.reply(tc.from, tc.cmd)
		if !strings.Contains(got, tc.want) || strings.Contains(got, "went wrong") || strings.Contains(got, "\n") {
			t.Errorf("%s: %q, want one line with %q", tc.cmd, got, tc.want)
		}
	}
}

func containsID(list []id.UserID, u id.UserID) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}

// TestRosterMistakes: every bad input gets one friendly line with an
// example, and changes nothing.
func TestRosterMistakes(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)
	before := h.reply(ana, "!roster minutes 10")
	expectReplies(t, h, []replyCase{
		{ana, "!roster", "`!roster minutes`"},
		{ana, "!roster new", "members after a colon"},
		{ana, "!roster new kitchen every week", "members after a colon, e.g. `!roster new"},
		{ana, "!roster new kitchen every fortnite : @ana", `I couldn't read "fortnite" as a repeat`},
		{ana, "!roster new kitchen every week from yesterday : @ana", `"yesterday"`},
		{ana, "!roster new kitchen every week from : @ana", "after `from`"},
		{ana, "!roster new kitchen every week for : @ana", "after `for`"},
		{ana, "!roster new kitchen every week for 0d : @ana", "no time at all"},
		{ana, "!roster new kitchen every week : ana", "I expected members like `@ana`"},
		{ana, "!roster new kitchen every week :", "Name the members after the colon"},
		{ana, "!roster new kitchen every week : @zed:test", "@zed:test isn't a member of this room"},
		{ana, "!roster new kitchen every week : @quorum:test", "isn't a member of this room"},
		{ana, "!roster new kitchen every week : @zed", "I can't tell who @zed is here"},
		{ana, "!roster new new every week : @ana", "not \"new\""},
		{ana, "!roster new kit/chen every week : @ana", "one word"},
		{ana, "!roster new minutes every week : @ana", "called \"minutes\" here already"},
		{ana, "!roster nosuch", "There's no roster called \"nosuch\" here. `!rosters`"},
		{ana, "!roster minutes frob", "I don't know `!roster minutes frob`"},
		{ana, "!roster minutes ad @dan", "Did you mean `!roster minutes add`? Try `!roster minutes add @user`"},
		{ana, "!roster minutes 99", "1 to 30 turns"},
		{ana, "!roster minutes add", "Who should I add?"},
		{ana, "!roster minutes add @ben", "@ben:test is on the minutes roster already"},
		{ana, "!roster minutes remove @ben", "Only @ben:test or a moderator"},
		{dan, "!roster minutes remove @dan", "isn't on the minutes roster"},
		{ana, "!roster minutes skip", "Which day's turn?"},
		{ana, "!roster minutes skip 2026-12-02", "There's no minutes turn on Wed 2 Dec. Next turns: Mon 30 Nov, Mon 7 Dec, Mon 14 Dec."},
		{ana, "!roster minutes skip someday", `I couldn't read "someday" as a date`},
		{ana, "!roster minutes away @ana", "Who is away, and when?"},
		{ana, "!roster minutes away @ana soon later", "as two dates"},
		{ana, "!roster minutes away @ana 2026-12-10 2026-12-01", "before the first"},
		{ana, "!roster minutes away @ben 2026-12-01 2026-12-10", "Only @ben:test or a moderator"},
		{ana, "!roster minutes away @ana 2026-11-01 2026-11-10", "That's in the past"},
		{ben, "!roster minutes delete", "Only @ana:test, who created it, or a moderator"},
	})
	if after := h.reply(ana, "!roster minutes 10"); after != before {
		t.Errorf("a mistake changed the roster:\n%s\nthen\n%s", before, after)
	}
	if got := h.reply(ana, "!rosters"); strings.Contains(got, "kitchen") {
		t.Errorf("a mistaken roster was created: %q", got)
	}
}

func TestRosterChanges(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)

	h.send(chi, "!roster minutes add @dan")
	added := only(t, h.drain())
	if got := turnsOf(t, added.Msg); got[3] != "dan 2026-12-21T17:00:00Z" || got[4] != "ana 2026-12-28T17:00:00Z" {
		t.Errorf("after adding dan: %v", got)
	}
	if !containsID(added.Msg.Mentions, dan) {
		t.Errorf("the added member is not told: %v", added.Msg.Mentions)
	}

	h.send(ben, "!roster minutes skip 7 dec")
	skipped := turnsOf(t, only(t, h.drain()).Msg)
	if skipped[1] != "ben 2026-12-14T17:00:00Z" {
		t.Errorf("after skipping 7 Dec: %v", skipped)
	}

	// ana is away for her turn on 30 Nov: ben steps in, ana takes the next.
	h.send(ana, "!roster minutes away @ana 2026-11-29 to 2026-11-30")
	away := turnsOf(t, only(t, h.drain()).Msg)
	if strings.Join(away[:3], ",") != "ben 2026-11-30T17:00:00Z,ana 2026-12-14T17:00:00Z,chi 2026-12-21T17:00:00Z" {
		t.Errorf("after ana's absence: %v", away)
	}

	h.send(ben, "!roster minutes remove @ben")
	removed := only(t, h.drain())
	if got := turnsOf(t, removed.Msg); strings.Contains(strings.Join(got, ","), "ben") {
		t.Errorf("ben still has turns after removing himself: %v", got)
	}

	// A moderator may take someone else off; a creator may delete.
	h.rooms.power[chi] = 50
	if got := h.reply(chi, "!roster minutes remove @dan"); !strings.Contains(got, "Took @dan:test off the minutes roster") {
		t.Errorf("moderator removing dan: %q", got)
	}
	if got := h.reply(ana, "!roster minutes delete"); !strings.Contains(got, "Deleted the minutes roster") {
		t.Errorf("delete: %q", got)
	}
	if got := h.reply(ana, "!rosters"); !strings.Contains(got, "No rosters here yet") {
		t.Errorf("after delete: %q", got)
	}
}

// TestRosterHistoryKept: changes apply from when they are made; turns that
// have passed stay as they were, and the rotation goes on from them.
func TestRosterHistoryKept(t *testing.T) {
	h := rosterHarness(t, "UTC")
	h.send(ana, "!roster new dishes every day from tomorrow 18:00 : @ana @ben @chi")
	h.drain()
	h.clock.Advance(54 * time.Hour) // 27 Nov 18:00: ana (26th) has had her turn, ben's (27th) begins
	h.send(ana, "!roster dishes add @dan")
	got := turnsOf(t, only(t, h.drain()).Msg)
	if strings.Join(got[:3], ",") != "ben 2026-11-27T18:00:00Z,chi 2026-11-28T18:00:00Z,dan 2026-11-29T18:00:00Z" {
		t.Errorf("after adding dan two turns in: %v", got)
	}
}

func TestRosterLeave(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)
	h.send(ana, "!roster new kitchen every 2 weeks from friday 12:00 : @ben @ana")
	h.drain()
	h.send(ana, "!swap minutes 2026-11-30 @ben")
	h.drain()
	ctx := context.Background()
	if err := h.a.HandleLeave(ctx, testRoom, ben, "$leave1", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	told := only(t, h.drain())
	if !strings.HasPrefix(told.Msg.Body, "@ben:test left the room, so I took them off the kitchen and minutes rosters; the others' turns move up.\nRecord entry ") {
		t.Errorf("leave notice: %q", told.Msg.Body)
	}
	if told.Msg.Fields["quorum.record"] == nil {
		t.Error("the roster change was not recorded")
	}
	if len(told.Msg.Mentions) != 0 {
		t.Errorf("the leave notice pings %v", told.Msg.Mentions)
	}
	if got := h.reply(ana, "!roster minutes 3"); strings.Contains(got, "ben") || !strings.Contains(got, "Mon 7 Dec 18:00 — @chi:test") {
		t.Errorf("after ben left: %q", got)
	}
	// The swap ben was asked is gone with him.
	if got := h.reply(ben, "!swap accept 1"); !strings.Contains(got, "Swap 1 was cancelled already") {
		t.Errorf("accepting a swap after leaving: %q", got)
	}
	// A second leave (a redelivery, or someone on no roster) says nothing.
	if err := h.a.HandleLeave(ctx, testRoom, ben, "$leave2", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.a.HandleLeave(ctx, testRoom, dan, "$leave3", h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if out := h.drain(); len(out) != 0 {
		t.Errorf("leaves of members on no roster were announced: %+v", out)
	}
}
