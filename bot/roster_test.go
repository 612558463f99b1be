package bot_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/sandbox"
	"quorum/testkit"
)

// field returns a content field of a decrypted event (quorum.roster,
// quorum.reminder).
func field(t *testing.T, evt *event.Event, key string) map[string]any {
	t.Helper()
	f, ok := evt.Content.Raw[key].(map[string]any)
	if !ok {
		t.Fatalf("no %s in %v", key, evt.Content.Raw)
	}
	return f
}

// turns renders quorum.roster's turns as "@ana:localhost 2026-12-01T12:00:00Z".
func turns(t *testing.T, evt *event.Event) []string {
	t.Helper()
	var out []string
	list, _ := field(t, evt, "quorum.roster")["turns"].([]any)
	for _, x := range list {
		turn := x.(map[string]any)
		out = append(out, turn["user_id"].(string)+" "+turn["starts_at"].(string))
	}
	return out
}

// clockedBot starts a bot on a new homeserver with a clock the test moves.
func clockedBot(t *testing.T) (*sandbox.Server, *testkit.Bot, *testkit.Clock) {
	t.Helper()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	clock := &testkit.Clock{}
	b.Opts.Clock = clock
	b.Start()
	return s, b, clock
}

// dm waits for a notice from the bot in a room other than room whose body
// contains substr, and checks that it was encrypted.
func dm(t *testing.T, c *testkit.Client, bot id.UserID, room id.RoomID, substr string) *event.Event {
	t.Helper()
	evt := c.WaitFor(wait, "a direct message with "+substr, func(evt *event.Event) bool {
		return evt.RoomID != room && testkit.IsNotice(evt, evt.RoomID, bot, substr)
	})
	if evt.Mautrix.EventSource&event.SourceDecrypted == 0 {
		t.Fatalf("the direct message %q was not encrypted", substr)
	}
	return evt
}

// TestRosterSwapAndReminder: a roster is created; ana asks ben to swap, ben
// is asked by DM and accepts with an encrypted ✅ on the room's request; the
// bot announces it; ben's private duty reminder for his new turn arrives by
// DM, in the same direct room, decrypted.
func TestRosterSwapAndReminder(t *testing.T) {
	t.Parallel()
	s, b, clock := clockedBot(t)
	botID := b.Client().UserID
	r, members := assembly(t, s, b, "ana", "ben")
	ana, ben := members[0], members[1]
	ben.WaitJoined(r, ben.UserID, wait)

	if got := ben.Ask(r, "!remind duty on").Content.AsMessage().Body; !strings.HasPrefix(got, "OK, I'll send you a direct message 1 day before each of your turns.") {
		t.Fatalf("opting in: %q", got)
	}
	day := time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02")
	first, _ := time.Parse(time.RFC3339, day+"T12:00:00Z")
	created := ana.Ask(r, "!roster new minutes every week from "+day+" 12:00 : @ana @ben:localhost")
	if body := created.Content.AsMessage().Body; !strings.Contains(body, "Created the minutes roster") {
		t.Fatalf("creating the roster: %q", body)
	}
	want := []string{
		ana.UserID.String() + " " + first.Format(time.RFC3339),
		ben.UserID.String() + " " + first.AddDate(0, 0, 7).Format(time.RFC3339),
	}
	if got := turns(t, created); len(got) != 6 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("turns = %v, want %v first", got, want)
	}

	request := ana.Ask(r, "!swap minutes "+day+" @ben")
	if body := request.Content.AsMessage().Body; !strings.Contains(body, "asks you to take their minutes turn") {
		t.Fatalf("swap request: %q", body)
	}
	if m := request.Content.AsMessage().Mentions; m == nil || !slices.Contains(m.UserIDs, ben.UserID) {
		t.Errorf("the request does not mention ben: %+v", m)
	}
	asked := dm(t, ben, botID, r, "Swap request from "+ana.UserID.String())
	dmRoom := asked.RoomID

	ben.React(r, request.ID, "✅", true)
	done := ana.WaitFor(wait, "the swap announcement", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, r, botID, "Swapped on minutes")
	})
	swapped := []string{
		ben.UserID.String() + " " + first.Format(time.RFC3339),
		ana.UserID.String() + " " + first.AddDate(0, 0, 7).Format(time.RFC3339),
	}
	if got := turns(t, done); strings.Join(got, ",") != strings.Join(swapped, ",") {
		t.Errorf("swapped turns = %v, want %v", got, swapped)
	}
	if got := ben.Ask(r, "!duty").Content.AsMessage().Body; !strings.Contains(got, first.Format("Mon 2 Jan")+" 12:00 — minutes") {
		t.Errorf("ben's turns after the swap: %q", got)
	}

	// ben's reminder is due 24h before his new turn.
	clock.Advance(time.Until(first.Add(-24*time.Hour + 30*time.Second)))
	b.Wake()
	reminder := dm(t, ben, botID, r, "⏰ Reminder: your turn on the minutes roster")
	if reminder.RoomID != dmRoom {
		t.Errorf("the reminder came in %s, not the direct room %s used before", reminder.RoomID, dmRoom)
	}
	rf := field(t, reminder, "quorum.reminder")
	if rf["kind"] != "duty" || rf["late"] != false || rf["due_at"] != first.Add(-24*time.Hour).Format(time.RFC3339) {
		t.Errorf("quorum.reminder = %v", rf)
	}
}

// TestReminderWhileDown: a reminder that falls due while the bot is down
// arrives once after it starts, marked late; later restarts do not repeat it.
func TestReminderWhileDown(t *testing.T) {
	t.Parallel()
	s, b, clock := clockedBot(t)
	botID := b.Client().UserID
	r, members := assembly(t, s, b, "ana")
	ana := members[0]
	ana.Ask(r, "!remind me in 1h : water the plants")
	ana.Ask(r, "!remind me in 3h : second")

	b.Stop()
	clock.Advance(90 * time.Minute)
	b.Start()
	late := dm(t, ana, botID, r, "water the plants")
	if body := late.Content.AsMessage().Body; !strings.HasPrefix(body, "⏰ Late reminder") {
		t.Errorf("not marked late in the text: %q", body)
	}
	if rf := field(t, late, "quorum.reminder"); rf["late"] != true || rf["kind"] != "personal" {
		t.Errorf("quorum.reminder = %v", rf)
	}

	// Restart again, then let the second reminder fall due. Both go to ana's
	// direct room in order, so when the second arrives, a repeat of the
	// first would have arrived before it.
	b.Stop()
	b.Start()
	clock.Advance(90*time.Minute + 30*time.Second)
	b.Wake()
	second := dm(t, ana, botID, r, "⏰ Reminder: second")
	if rf := field(t, second, "quorum.reminder"); rf["late"] != false {
		t.Errorf("a reminder sent on time is marked late: %v", rf)
	}
	if n := len(ana.Notices(late.RoomID, botID, "water the plants")); n != 1 {
		t.Errorf("the missed reminder arrived %d times, want once", n)
	}
	if second.RoomID != late.RoomID {
		t.Errorf("a second direct room was made: %s and %s", late.RoomID, second.RoomID)
	}
}
