package rosters

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/commands/reminders"
	"quorum/msg"
)

// rosterHarness is rosters and reminders in a test room that shows times
// in zone, with ana, ben, chi and dan in it. Its clock starts on Wednesday
// 25 November 2026, 12:00 UTC.
func rosterHarness(t *testing.T, zone string) *Harness {
	t.Helper()
	h := NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		rem := reminders.New(env, log)
		return []commands.Feature{New(env, rem), rem}
	}, Ana, Ben, Chi, Dan)
	h.Env.Config.Timezone = zone
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

// newMinutes creates the minutes roster: Mondays 18:00 from 30 November.
func newMinutes(t *testing.T, h *Harness) Sent {
	t.Helper()
	h.Send(Ana, "!roster new minutes every week from monday 18:00 : @ana @ben:test, @chi")
	return Only(t, h.Drain())
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
	for _, u := range []id.UserID{Ana, Ben, Chi} {
		if !slices.Contains(created.Msg.Mentions, u) {
			t.Errorf("creation does not mention %s: %v", u, created.Msg.Mentions)
		}
	}
	h.Send(Ben, "!roster MINUTES 2")
	shown := Only(t, h.Drain())
	if got := turnsOf(t, shown.Msg); strings.Join(got, ",") != strings.Join(want[:2], ",") {
		t.Errorf("!roster minutes 2 = %v", got)
	}
	if len(shown.Msg.Mentions) != 1 || shown.Msg.Mentions[0] != Ben {
		t.Errorf("showing a roster pings %v; want only the asker", shown.Msg.Mentions)
	}
	if got := h.Reply(Chi, "!rosters"); !strings.Contains(got, "minutes — every week; next Mon 30 Nov 18:00, @ana:test") {
		t.Errorf("!rosters: %q", got)
	}
	if got := h.Reply(Chi, "!duty"); !strings.Contains(got, "Mon 14 Dec 18:00 — minutes") || strings.Contains(got, "Mon 30 Nov") {
		t.Errorf("!duty for chi: %q", got)
	}
	if got := h.Reply(Dan, "!duty"); !strings.Contains(got, "You have no upcoming turns") {
		t.Errorf("!duty for someone on no roster: %q", got)
	}
}

// TestRosterMistakes: every bad input gets one friendly line with an
// example, and changes nothing.
func TestRosterMistakes(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)
	before := h.Reply(Ana, "!roster minutes 10")
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!roster", Want: "`!roster minutes`"},
		{From: Ana, Cmd: "!roster new", Want: "members after a colon"},
		{From: Ana, Cmd: "!roster new kitchen every week", Want: "members after a colon, e.g. `!roster new"},
		{From: Ana, Cmd: "!roster new kitchen every fortnite : @ana", Want: `I couldn't read "fortnite" as a repeat`},
		{From: Ana, Cmd: "!roster new kitchen every week from yesterday : @ana", Want: `"yesterday"`},
		{From: Ana, Cmd: "!roster new kitchen every week from : @ana", Want: "after `from`"},
		{From: Ana, Cmd: "!roster new kitchen every week for : @ana", Want: "after `for`"},
		{From: Ana, Cmd: "!roster new kitchen every week for 0d : @ana", Want: "no time at all"},
		{From: Ana, Cmd: "!roster new kitchen every week : ana", Want: "I expected members like `@ana`"},
		{From: Ana, Cmd: "!roster new kitchen every week :", Want: "Name the members after the colon"},
		{From: Ana, Cmd: "!roster new kitchen every week : @zed:test", Want: "@zed:test isn't a member of this room"},
		{From: Ana, Cmd: "!roster new kitchen every week : @quorum:test", Want: "isn't a member of this room"},
		{From: Ana, Cmd: "!roster new kitchen every week : @zed", Want: "I can't tell who @zed is here"},
		{From: Ana, Cmd: "!roster new new every week : @ana", Want: "not \"new\""},
		{From: Ana, Cmd: "!roster new kit/chen every week : @ana", Want: "one word"},
		{From: Ana, Cmd: "!roster new minutes every week : @ana", Want: "called \"minutes\" here already"},
		{From: Ana, Cmd: "!roster nosuch", Want: "There's no roster called \"nosuch\" here. `!rosters`"},
		{From: Ana, Cmd: "!roster minutes frob", Want: "I don't know `!roster minutes frob`"},
		{From: Ana, Cmd: "!roster minutes ad @dan", Want: "Did you mean `!roster minutes add`? Try `!roster minutes add @user`"},
		{From: Ana, Cmd: "!roster minutes 99", Want: "1 to 30 turns"},
		{From: Ana, Cmd: "!roster minutes 31", Want: "1 to 30 turns"},
		{From: Ana, Cmd: "!roster minutes 0", Want: "1 to 30 turns"},
		{From: Ana, Cmd: "!roster minutes add", Want: "Who should I add?"},
		{From: Ben, Cmd: "!roster minutes add @ben", Want: "@ben:test is on the minutes roster already"},
		{From: Ana, Cmd: "!roster minutes add @dan", Want: "Only @dan:test or a moderator can put @dan:test on a roster; they can add themselves with `!roster minutes add @dan:test`."},
		{From: Ben, Cmd: "!roster minutes skip 2026-11-30", Want: "Only @ana:test or a moderator can do that."},
		{From: Ana, Cmd: "!roster minutes remove @ben", Want: "Only @ben:test or a moderator"},
		{From: Dan, Cmd: "!roster minutes remove @dan", Want: "isn't on the minutes roster"},
		{From: Ana, Cmd: "!roster minutes skip", Want: "Which day's turn?"},
		{From: Ana, Cmd: "!roster minutes skip 2026-12-02", Want: "There's no minutes turn on Wed 2 Dec. Next turns: Mon 30 Nov, Mon 7 Dec, Mon 14 Dec."},
		{From: Ana, Cmd: "!roster minutes skip someday", Want: `I couldn't read "someday" as a date`},
		{From: Ana, Cmd: "!roster minutes away @ana", Want: "Who is away, and when?"},
		{From: Ana, Cmd: "!roster minutes away @ana soon later", Want: "as two dates"},
		{From: Ana, Cmd: "!roster minutes away @ana 2026-12-10 2026-12-01", Want: "before the first"},
		{From: Ana, Cmd: "!roster minutes away @ben 2026-12-01 2026-12-10", Want: "Only @ben:test or a moderator"},
		{From: Ana, Cmd: "!roster minutes away @ana 2026-11-01 2026-11-10", Want: "That's in the past"},
		{From: Ben, Cmd: "!roster minutes delete", Want: "Only @ana:test, who created it, or a moderator"},
	})
	if after := h.Reply(Ana, "!roster minutes 10"); after != before {
		t.Errorf("a mistake changed the roster:\n%s\nthen\n%s", before, after)
	}
	if got := h.Reply(Ana, "!rosters"); strings.Contains(got, "kitchen") {
		t.Errorf("a mistaken roster was created: %q", got)
	}
}

// TestRosterLimits: the most turns shown, and the most rosters a room
// keeps, exactly at the limit and one over.
func TestRosterLimits(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)
	if got := turnsOf(t, Only(t, h.SendAndDrain(Ana, fmt.Sprintf("!roster minutes %d", maxShownTurns))).Msg); len(got) != maxShownTurns {
		t.Errorf("%d turns shown, want %d", len(got), maxShownTurns)
	}
	if got := turnsOf(t, Only(t, h.SendAndDrain(Ana, "!roster minutes 1")).Msg); len(got) != 1 {
		t.Errorf("%d turns shown, want 1", len(got))
	}
	for i := 2; i <= maxRostersPerRoom; i++ {
		if got := h.Reply(Ana, fmt.Sprintf("!roster new r%d every week : @ana", i)); !strings.HasPrefix(got, "Created") {
			t.Fatalf("roster %d: %q", i, got)
		}
	}
	if got := h.Reply(Ana, "!roster new onemore every week : @ana"); got != fmt.Sprintf("This room has %d rosters, the most I keep; delete one first.", maxRostersPerRoom) {
		t.Errorf("one roster too many: %q", got)
	}
}

// TestRosterAddLimit: members can be added up to the most a roster has,
// and not one more; a removed member no longer counts.
func TestRosterAddLimit(t *testing.T) {
	h := rosterHarness(t, "UTC")
	var mentions []string
	for i := range maxRosterMembers + 1 {
		u := id.UserID(fmt.Sprintf("@m%d:test", i))
		h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], u)
		mentions = append(mentions, u.String())
	}
	h.Rooms.Power[Ana] = 50 // a moderator may put others on a roster
	h.Send(Ana, "!roster new big every week : "+strings.Join(mentions[:maxRosterMembers-2], " "))
	Only(t, h.Drain())
	if got := h.Reply(Ana, "!roster big add "+mentions[maxRosterMembers-2]+" "+mentions[maxRosterMembers-1]+" "+mentions[maxRosterMembers]); got != "A roster can have at most 100 members." {
		t.Errorf("three more than room for two: %q", got)
	}
	if got := h.Reply(Ana, "!roster big add "+mentions[maxRosterMembers-2]+" "+mentions[maxRosterMembers-1]); !strings.HasPrefix(got, "Added") {
		t.Errorf("up to the limit: %.80q", got)
	}
	if got := h.Reply(Ana, "!roster big add "+mentions[maxRosterMembers]); got != "A roster can have at most 100 members." {
		t.Errorf("one over the limit: %q", got)
	}
	h.Reply(Ana, "!roster big remove "+mentions[0])
	if got := h.Reply(Ana, "!roster big add "+mentions[maxRosterMembers]); !strings.HasPrefix(got, "Added") {
		t.Errorf("after a removal: %.80q", got)
	}
}

func TestRosterChanges(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)

	h.Send(Dan, "!roster minutes add @dan")
	added := Only(t, h.Drain())
	if got := turnsOf(t, added.Msg); got[3] != "dan 2026-12-21T17:00:00Z" || got[4] != "ana 2026-12-28T17:00:00Z" {
		t.Errorf("after adding dan: %v", got)
	}
	if !slices.Contains(added.Msg.Mentions, Dan) {
		t.Errorf("the added member is not told: %v", added.Msg.Mentions)
	}

	h.Send(Ben, "!roster minutes skip 7 dec")
	skipped := turnsOf(t, Only(t, h.Drain()).Msg)
	if skipped[1] != "ben 2026-12-14T17:00:00Z" {
		t.Errorf("after skipping 7 Dec: %v", skipped)
	}

	// ana is away for her turn on 30 Nov: ben steps in, ana takes the next.
	h.Send(Ana, "!roster minutes away @ana 2026-11-29 to 2026-11-30")
	away := turnsOf(t, Only(t, h.Drain()).Msg)
	if strings.Join(away[:3], ",") != "ben 2026-11-30T17:00:00Z,ana 2026-12-14T17:00:00Z,chi 2026-12-21T17:00:00Z" {
		t.Errorf("after ana's absence: %v", away)
	}

	h.Send(Ben, "!roster minutes remove @ben")
	removed := Only(t, h.Drain())
	if got := turnsOf(t, removed.Msg); strings.Contains(strings.Join(got, ","), "ben") {
		t.Errorf("ben still has turns after removing himself: %v", got)
	}

	// A moderator may take someone else off; a creator may delete.
	h.Rooms.Power[Chi] = 50
	if got := h.Reply(Chi, "!roster minutes remove @dan"); !strings.Contains(got, "Took @dan:test off the minutes roster") {
		t.Errorf("moderator removing dan: %q", got)
	}
	if got := h.Reply(Ana, "!roster minutes delete"); !strings.Contains(got, "Deleted the minutes roster") {
		t.Errorf("delete: %q", got)
	}
	if got := h.Reply(Ana, "!rosters"); !strings.Contains(got, "No rosters here yet") {
		t.Errorf("after delete: %q", got)
	}
}

// TestRosterHistoryKept: changes apply from when they are made; turns that
// have passed stay as they were, and the rotation goes on from them.
func TestRosterHistoryKept(t *testing.T) {
	h := rosterHarness(t, "UTC")
	h.Send(Ana, "!roster new dishes every day from tomorrow 18:00 : @ana @ben @chi")
	h.Drain()
	h.Clock.Advance(54 * time.Hour) // 27 Nov 18:00: Ana (26th) has had her turn, Ben's (27th) begins
	h.Send(Dan, "!roster dishes add @dan")
	got := turnsOf(t, Only(t, h.Drain()).Msg)
	if strings.Join(got[:3], ",") != "ben 2026-11-27T18:00:00Z,chi 2026-11-28T18:00:00Z,dan 2026-11-29T18:00:00Z" {
		t.Errorf("after adding dan two turns in: %v", got)
	}
}

func TestRosterLeave(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)
	h.Send(Ana, "!roster new kitchen every 2 weeks from friday 12:00 : @ben @ana")
	h.Drain()
	h.Send(Ana, "!swap minutes 2026-11-30 @ben")
	h.Drain()
	ctx := context.Background()
	if err := h.A.HandleLeave(ctx, Room, Ben, "$leave1", h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	told := Only(t, h.Drain())
	if !strings.HasPrefix(told.Msg.Body, "@ben:test left the room, so I took them off the kitchen and minutes rosters; the others' turns move up.\nRecord entry ") {
		t.Errorf("leave notice: %q", told.Msg.Body)
	}
	if told.Msg.Fields["quorum.record"] == nil {
		t.Error("the roster change was not recorded")
	}
	if len(told.Msg.Mentions) != 0 {
		t.Errorf("the leave notice pings %v", told.Msg.Mentions)
	}
	if got := h.Reply(Ana, "!roster minutes 3"); strings.Contains(got, "ben") || !strings.Contains(got, "Mon 7 Dec 18:00 — @chi:test") {
		t.Errorf("after ben left: %q", got)
	}
	// The swap ben was asked is gone with him.
	if got := h.Reply(Ben, "!swap accept 1"); !strings.Contains(got, "Swap 1 was cancelled already") {
		t.Errorf("accepting a swap after leaving: %q", got)
	}
	// A second leave (a redelivery, or someone on no roster) says nothing.
	if err := h.A.HandleLeave(ctx, Room, Ben, "$leave2", h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := h.A.HandleLeave(ctx, Room, Dan, "$leave3", h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("leaves of members on no roster were announced: %+v", out)
	}
}

// TestRosterEndsAndDuty: a roster past its end says so; !duty lists at most
// three turns of one roster; a member on one roster who leaves is taken
// off "the roster", one on none causes nothing.
func TestRosterEndsAndDuty(t *testing.T) {
	h := rosterHarness(t, "UTC")
	h.Send(Ana, "!roster new short every week from monday 18:00 for 1 week : @ben")
	h.Drain()
	h.Send(Ana, "!roster new solo every day from tomorrow 9:00 : @ana")
	h.Drain()
	got := h.Reply(Ana, "!duty")
	if strings.Count(got, "— solo") != 3 || strings.Contains(got, "short") {
		t.Errorf("!duty for ana:\n%s", got)
	}
	h.Clock.Advance(6 * 24 * time.Hour) // Tue 1 Dec: the short roster's one turn has begun
	if got := h.Reply(Ana, "!roster short"); !strings.Contains(got, "No more turns: the roster has ended.") {
		t.Errorf("an ended roster: %q", got)
	}
	ctx := context.Background()
	if err := h.A.HandleLeave(ctx, Room, Dan, "$leave-dan", h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("dan, on no roster, left:%s", Bodies(out))
	}
	if err := h.A.HandleLeave(ctx, Room, Ana, "$leave-ana", h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := Only(t, h.Drain()).Msg.Body; !strings.HasPrefix(got, "@ana:test left the room, so I took them off the solo roster;") {
		t.Errorf("ana left: %q", got)
	}
}
