package reminders

import (
	"context"
	"strings"
	"testing"
	"time"

	. "quorum/commands/commandstest"
	"quorum/store"
)

func TestPersonalReminders(t *testing.T) {
	h := newHarness(t, "UTC")
	const secret = "call the landlord about the strike fund"
	got := h.Reply(Ana, "!remind me in 2h : "+secret)
	if got != "OK, I'll remind you by direct message Wed 25 Nov 14:00 (in 2h).\nTo cancel: `!remind cancel 1`." {
		t.Errorf("confirmation: %q", got)
	}
	h.Reply(Ana, "!remind me tomorrow 9:00 : second")
	// The list goes by DM, never to the room.
	h.Send(Ana, "!remind list")
	out := h.Drain()
	if len(out) != 2 || out[0].DMUser != Ana || !strings.Contains(out[0].Msg.Body, "1. Wed 25 Nov 14:00 — "+secret) ||
		out[1].Room != Room || strings.Contains(out[1].Msg.Body, secret) {
		t.Fatalf("list: %+v", out)
	}
	if got := h.Reply(Ana, "!remind cancel 2"); got != "Cancelled reminder 2." {
		t.Errorf("cancel: %q", got)
	}
	if got := h.Reply(Ben, "!remind cancel 1"); !strings.Contains(got, "You have no reminder number 1") {
		t.Errorf("cancelling someone else's: %q", got)
	}
	dm := Only(t, h.AdvanceTo(time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)))
	if dm.DMUser != Ana || dm.Msg.Body != "⏰ Reminder: "+secret {
		t.Errorf("reminder: %+v", dm)
	}
	if out := h.AdvanceTo(time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)); len(out) != 0 {
		t.Errorf("a cancelled or sent reminder was sent: %+v", out)
	}
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!remind", Want: "Try `!remind me <when> : <text>`"},
		{From: Ana, Cmd: "!remind me", Want: "Say when, then what after a colon"},
		{From: Ana, Cmd: "!remind me tomorrow", Want: "Say when, then what after a colon"},
		{From: Ana, Cmd: "!remind me tomorrow :", Want: "What should I remind you of?"},
		{From: Ana, Cmd: "!remind me yesterday : x", Want: `"yesterday"`},
		{From: Ana, Cmd: "!remind me every week for 2 weeks : x", Want: "leave out `for …`"},
		{From: Ana, Cmd: "!remind me in 2h : " + strings.Repeat("x", 501), Want: "too long"},
		{From: Ana, Cmd: "!remind cancel", Want: "Which one?"},
	})
}

// TestPersonalReminderMissed: a one-off reminder missed while the bot was
// down comes late, once; a daily one missed for days comes once, for the
// latest day, then goes on.
func TestPersonalReminderMissed(t *testing.T) {
	h := newHarness(t, "UTC")
	h.Reply(Ana, "!remind me in 1h : one-off")
	h.Reply(Ana, "!remind me every day 13:30 : daily")
	out := h.AdvanceTo(time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)) // down for three days
	if len(out) != 2 {
		t.Fatalf("want 2 late reminders, got %+v", out)
	}
	for _, s := range out {
		_, due, late := ReminderField(t, s)
		if !late || !strings.HasPrefix(s.Msg.Body, "⏰ Late reminder") {
			t.Errorf("not marked late: %q", s.Msg.Body)
		}
		if strings.HasSuffix(s.Msg.Body, "daily") && due != "2026-11-28T13:30:00Z" {
			t.Errorf("the daily reminder is for %s, want the latest missed day", due)
		}
	}
	if next := h.Due(); !next.Equal(time.Date(2026, 11, 29, 13, 30, 0, 0, time.UTC)) {
		t.Errorf("the daily reminder next falls due %v", next)
	}
	// A one-off missed by more than a week is dropped.
	h.Reply(Ana, "!remind me in 1h : stale")
	if out := h.AdvanceTo(h.Clock.Now().Add(8 * 24 * time.Hour)); len(out) != 1 || !strings.HasSuffix(out[0].Msg.Body, "daily") {
		t.Errorf("after 8 days down: %+v", out)
	}
}

func TestTimezone(t *testing.T) {
	h := newHarness(t, "Europe/Berlin")
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!tz", Want: "You haven't set a timezone; I use the room's, Europe/Berlin."},
		{From: Ana, Cmd: "!tz america/new_york", Want: "OK, your timezone is America/New_York (now Wed 25 Nov 07:00 there)."},
		{From: Ana, Cmd: "!tz", Want: "Your timezone is America/New_York (now Wed 25 Nov 07:00 there)."},
		{From: Ana, Cmd: "!tz Mars/Olympus_Mons", Want: `I don't know the timezone "Mars/Olympus_Mons"`},
		{From: Ana, Cmd: "!tz ../../etc/passwd", Want: "I don't know the timezone"},
		{From: Ana, Cmd: "!tz Local", Want: "I don't know the timezone"},
		{From: Ana, Cmd: "!tz utc", Want: "OK, your timezone is UTC"},
		{From: Ana, Cmd: "!tz reset", Want: "OK, I'll use each room's timezone for you (here Europe/Berlin)."},
		{From: Ana, Cmd: "!tz", Want: "You haven't set a timezone"},
	})
	// A personal reminder is read and confirmed in the member's zone, named
	// when the room's differs.
	h.Reply(Ana, "!tz America/New_York")
	if got := h.Reply(Ana, "!remind me tomorrow 9:00 : x"); !strings.Contains(got, "Thu 26 Nov 09:00 America/New_York (in 1 day 2h)") {
		t.Errorf("confirmation in the member's zone: %q", got)
	}
	var due int64
	if err := h.Env.Store.DB.QueryRow(context.Background(), "SELECT due_at FROM reminders WHERE kind=$1", store.ReminderPersonal).Scan(&due); err != nil {
		t.Fatal(err)
	}
	if got := time.UnixMilli(due).UTC(); !got.Equal(time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("stored due time %v, want 09:00 New York", got)
	}
}

// TestReminderGraceAndCutoff: a reminder delivered up to two minutes after
// its time is not late, one a millisecond more is; a one-off reminder
// missed while the bot was down is sent until a week after its time, and
// dropped at exactly that moment.
func TestReminderGraceAndCutoff(t *testing.T) {
	h := newHarness(t, "UTC")
	start := h.Clock.Now() // 12:00
	h.Reply(Ana, "!remind me in 1h : on time")
	h.Reply(Ana, "!remind me in 2h : late")
	h.Reply(Ana, "!remind me in 3h : cut off")
	h.Reply(Ana, "!remind me in 181m : just in time")
	for _, tc := range []struct {
		at   time.Duration // after start
		body string        // "" for nothing sent
		late bool
	}{
		{time.Hour + reminderGrace, "⏰ Reminder: on time", false},
		{2*time.Hour + reminderGrace + time.Millisecond, "⏰ Late reminder (I was offline when it was due): late", true},
		{3*time.Hour + personalLateWindow, "⏰ Late reminder (I was offline when it was due): just in time", true},
		{4*time.Hour + personalLateWindow, "", false},
	} {
		out := h.AdvanceTo(start.Add(tc.at))
		if tc.body == "" {
			if len(out) != 0 {
				t.Errorf("at +%v: sent%s", tc.at, Bodies(out))
			}
			continue
		}
		if len(out) != 1 {
			t.Fatalf("at +%v: want %q alone, got:%s", tc.at, tc.body, Bodies(out))
		}
		dm := out[0]
		if _, _, late := ReminderField(t, dm); dm.Msg.Body != tc.body || late != tc.late {
			t.Errorf("at +%v: %q late=%v, want %q late=%v", tc.at, dm.Msg.Body, late, tc.body, tc.late)
		}
	}
	var dropped int
	err := h.Env.Store.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM reminders WHERE dropped=1").Scan(&dropped)
	if err != nil || dropped != 1 {
		t.Errorf("dropped reminders: %d, want 1 (%v)", dropped, err)
	}
}
