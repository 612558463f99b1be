package commands

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/store"
)

// reminderField returns m's quorum.reminder.
func reminderField(t *testing.T, s sent) (kind, dueAt string, late bool) {
	t.Helper()
	f, ok := s.Msg.Fields["quorum.reminder"].(map[string]any)
	if !ok {
		t.Fatalf("no quorum.reminder in %+v", s)
	}
	return f["kind"].(string), f["due_at"].(string), f["late"].(bool)
}

// advanceTo moves the clock to at and runs the scheduler.
func (h *harness) advanceTo(at time.Time) []sent {
	h.t.Helper()
	h.clock.Advance(at.Sub(h.clock.Now()))
	h.due()
	return h.drain()
}

func TestDutyReminders(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	if got := h.reply(ben, "!remind duty on"); got != "OK, I'll send you a direct message 1 day before each of your turns." {
		t.Errorf("opting in before any roster: %q", got)
	}
	newMinutes(t, h) // ben: Mon 7 Dec and Mon 28 Dec, 18:00 Berlin
	if next := h.due(); !next.Equal(time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("next reminder due %v, want 24h before ben's turn", next)
	}
	if out := h.advanceTo(time.Date(2026, 12, 6, 16, 59, 0, 0, time.UTC)); len(out) != 0 {
		t.Fatalf("reminder sent early: %+v", out)
	}
	dm := only(t, h.advanceTo(time.Date(2026, 12, 6, 17, 0, 30, 0, time.UTC)))
	if dm.DMUser != ben || dm.Msg.Body != "⏰ Reminder: your turn on the minutes roster, Mon 7 Dec 18:00 (in 23h 59m)." {
		t.Errorf("duty reminder: %+v", dm)
	}
	if kind, due, late := reminderField(t, dm); kind != "duty" || due != "2026-12-06T17:00:00Z" || late {
		t.Errorf("quorum.reminder = %s %s %v", kind, due, late)
	}
	// It fires once; the next is planned for ben's next turn.
	if out := h.advanceTo(time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)); len(out) != 0 {
		t.Fatalf("reminder sent twice: %+v", out)
	}
	if next := h.due(); !next.Equal(time.Date(2026, 12, 27, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("next reminder due %v, want 24h before 28 Dec", next)
	}
	// Re-planning (any change to the roster) does not send it again.
	h.send(chi, "!roster minutes add @dan")
	h.drain()
	if out := h.advanceTo(time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)); len(out) != 0 {
		t.Fatalf("a re-plan repeated a sent reminder: %+v", out)
	}
	if got := h.reply(ben, "!remind duty off"); got != "OK, no more reminders of your turns." {
		t.Errorf("opting out: %q", got)
	}
	if next := h.due(); !next.IsZero() {
		t.Errorf("a reminder is still planned after opting out: %v", next)
	}
}

// TestDutyReminderLate: a reminder that fell due while the bot was down is
// sent late while the turn lasts, and dropped once it is over.
func TestDutyReminderLate(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)
	h.send(ana, "!remind duty on 2h") // ana: Mon 30 Nov 18:00 Berlin, reminded at 16:00
	h.drain()
	h.send(ben, "!remind duty on 2h") // ben: Mon 7 Dec
	h.drain()
	// "Down" until the day after ana's turn began: the turn lasts a week.
	dm := only(t, h.advanceTo(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)))
	if dm.DMUser != ana || !strings.HasPrefix(dm.Msg.Body, "⏰ Late reminder (I was offline when it was due): your turn on the minutes roster, Mon 30 Nov 18:00 (began 16h ago).") {
		t.Errorf("late reminder: %+v", dm)
	}
	if _, _, late := reminderField(t, dm); !late {
		t.Error("not marked late")
	}
	// Down past the end of ben's turn (it ends when the next begins): dropped.
	if out := h.advanceTo(time.Date(2026, 12, 14, 18, 0, 0, 0, time.UTC)); len(out) != 0 {
		t.Fatalf("a reminder of a turn that is over was sent: %+v", out)
	}
	var dropped int
	err := h.env.Store.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM reminders WHERE dropped=1 AND user_id=$1", ben).Scan(&dropped)
	if err != nil || dropped != 1 {
		t.Errorf("dropped reminders of ben: %d, %v", dropped, err)
	}
}

func TestPersonalReminders(t *testing.T) {
	h := rosterHarness(t, "UTC")
	const secret = "call the landlord about the strike fund"
	got := h.reply(ana, "!remind me in 2h : "+secret)
	if got != "OK, I'll remind you by direct message Wed 25 Nov 14:00 (in 2h).\nTo cancel: `!remind cancel 1`." {
		t.Errorf("confirmation: %q", got)
	}
	h.reply(ana, "!remind me tomorrow 9:00 : second")
	// The list goes by DM, never to the room.
	h.send(ana, "!remind list")
	out := h.drain()
	if len(out) != 2 || out[0].DMUser != ana || !strings.Contains(out[0].Msg.Body, "1. Wed 25 Nov 14:00 — "+secret) ||
		out[1].Room != testRoom || strings.Contains(out[1].Msg.Body, secret) {
		t.Fatalf("list: %+v", out)
	}
	if got := h.reply(ana, "!remind cancel 2"); got != "Cancelled reminder 2." {
		t.Errorf("cancel: %q", got)
	}
	if got := h.reply(ben, "!remind cancel 1"); !strings.Contains(got, "You have no reminder number 1") {
		t.Errorf("cancelling someone else's: %q", got)
	}
	dm := only(t, h.advanceTo(time.Date(2026, 11, 25, 14, 0, 0, 0, time.UTC)))
	if dm.DMUser != ana || dm.Msg.Body != "⏰ Reminder: "+secret {
		t.Errorf("reminder: %+v", dm)
	}
	if out := h.advanceTo(time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)); len(out) != 0 {
		t.Errorf("a cancelled or sent reminder was sent: %+v", out)
	}
	expectReplies(t, h, []replyCase{
		{ana, "!remind", "Try `!remind me <when> : <text>`"},
		{ana, "!remind me", "Say when, then what after a colon"},
		{ana, "!remind me tomorrow", "Say when, then what after a colon"},
		{ana, "!remind me tomorrow :", "What should I remind you of?"},
		{ana, "!remind me yesterday : x", `"yesterday"`},
		{ana, "!remind me every week for 2 weeks : x", "leave out `for …`"},
		{ana, "!remind me in 2h : " + strings.Repeat("x", 501), "too long"},
		{ana, "!remind cancel", "Which one?"},
		{ana, "!remind duty", "`!remind duty on`"},
		{ana, "!remind duty on forever", `"forever"`},
		{ana, "!remind duty on 31d", "at most 30 days"},
	})
}

// TestPersonalReminderMissed: a one-off reminder missed while the bot was
// down comes late, once; a daily one missed for days comes once, for the
// latest day, then goes on.
func TestPersonalReminderMissed(t *testing.T) {
	h := rosterHarness(t, "UTC")
	h.reply(ana, "!remind me in 1h : one-off")
	h.reply(ana, "!remind me every day 13:30 : daily")
	out := h.advanceTo(time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)) // down for three days
	if len(out) != 2 {
		t.Fatalf("want 2 late reminders, got %+v", out)
	}
	for _, s := range out {
		_, due, late := reminderField(t, s)
		if !late || !strings.HasPrefix(s.Msg.Body, "⏰ Late reminder") {
			t.Errorf("not marked late: %q", s.Msg.Body)
		}
		if strings.HasSuffix(s.Msg.Body, "daily") && due != "2026-11-28T13:30:00Z" {
			t.Errorf("the daily reminder is for %s, want the latest missed day", due)
		}
	}
	if next := h.due(); !next.Equal(time.Date(2026, 11, 29, 13, 30, 0, 0, time.UTC)) {
		t.Errorf("the daily reminder next falls due %v", next)
	}
	// A one-off missed by more than a week is dropped.
	h.reply(ana, "!remind me in 1h : stale")
	if out := h.advanceTo(h.clock.Now().Add(8 * 24 * time.Hour)); len(out) != 1 || !strings.HasSuffix(out[0].Msg.Body, "daily") {
		t.Errorf("after 8 days down: %+v", out)
	}
}

// TestRemindersAcrossDST: a roster's turns, its duty reminders, and a daily
// personal reminder keep their wall-clock time across both DST changes, in
// a zone east of UTC and one west of it.
func TestRemindersAcrossDST(t *testing.T) {
	for _, tc := range []struct {
		zone                 string
		spring, fall         time.Time // a Monday before each change, 12:00 UTC
		before, after        string    // UTC hour of 18:00 local either side
		springDays, fallDays int       // days from spring/fall to the Monday after the change
	}{
		{"Europe/Berlin", time.Date(2026, 3, 23, 12, 0, 0, 0, time.UTC), time.Date(2026, 10, 19, 12, 0, 0, 0, time.UTC), "17", "16", 7, 7},
		{"America/New_York", time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 12, 0, 0, 0, time.UTC), "23", "22", 7, 7},
	} {
		t.Run(tc.zone, func(t *testing.T) {
			loc := mustZone(tc.zone)
			h := rosterHarness(t, tc.zone)
			h.clock.Advance(tc.spring.Sub(h.clock.Now()))
			h.send(ana, "!roster new cleaning every week from today 18:00 : @ana @ben")
			turns := turnsOf(t, only(t, h.drain()).Msg)
			if !strings.HasSuffix(turns[0], "T"+tc.before+":00:00Z") || !strings.HasSuffix(turns[1], "T"+tc.after+":00:00Z") {
				t.Errorf("spring: turns %v; want 18:00 local (%s:00 then %s:00 UTC)", turns[:2], tc.before, tc.after)
			}
			h.reply(ben, "!remind duty on 24h")
			h.reply(ana, "!tz "+tc.zone)
			h.reply(ana, "!remind me every day 9:00 : stretch")
			// Run the days across the change: every reminder at 09:00 local,
			// ben's duty reminder at 18:00 local the day before his turn.
			var dutyAt []time.Time
			for day := 1; day <= tc.springDays; day++ {
				for _, s := range h.advanceTo(tc.spring.AddDate(0, 0, day)) {
					kind, due, _ := reminderField(t, s)
					at, _ := time.Parse(time.RFC3339, due)
					if kind == "personal" && at.In(loc).Hour() != 9 {
						t.Errorf("daily reminder at %v local", at.In(loc))
					}
					if kind == "duty" {
						dutyAt = append(dutyAt, at)
					}
				}
			}
			if len(dutyAt) != 1 || dutyAt[0].In(loc).Hour() != 18 {
				t.Errorf("duty reminders %v; want one, at 18:00 local", dutyAt)
			}
			// Autumn: the same roster, months later.
			h.clock.Advance(tc.fall.Sub(h.clock.Now()))
			h.due()
			h.drain()
			got := turnsOf(t, only(t, sendAndDrain(h, ana, "!roster cleaning 2")).Msg)
			if !strings.HasSuffix(got[0], "T"+tc.after+":00:00Z") || !strings.HasSuffix(got[1], "T"+tc.before+":00:00Z") {
				t.Errorf("autumn: turns %v; want 18:00 local (%s:00 then %s:00 UTC)", got, tc.after, tc.before)
			}
			for day := 1; day <= tc.fallDays; day++ {
				for _, s := range h.advanceTo(tc.fall.AddDate(0, 0, day)) {
					if kind, due, _ := reminderField(t, s); kind == "personal" {
						at, _ := time.Parse(time.RFC3339, due)
						if at.In(loc).Hour() != 9 {
							t.Errorf("daily reminder at %v local", at.In(loc))
						}
					}
				}
			}
		})
	}
}

func sendAndDrain(h *harness, from id.UserID, body string) []sent {
	h.t.Helper()
	h.send(from, body)
	return h.drain()
}

func TestTimezone(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	expectReplies(t, h, []replyCase{
		{ana, "!tz", "You haven't set a timezone; I use the room's, Europe/Berlin."},
		{ana, "!tz america/new_york", "OK, your timezone is America/New_York (now Wed 25 Nov 07:00 there)."},
		{ana, "!tz", "Your timezone is America/New_York (now Wed 25 Nov 07:00 there)."},
		{ana, "!tz Mars/Olympus_Mons", `I don't know the timezone "Mars/Olympus_Mons"`},
		{ana, "!tz ../../etc/passwd", "I don't know the timezone"},
		{ana, "!tz Local", "I don't know the timezone"},
		{ana, "!tz utc", "OK, your timezone is UTC"},
		{ana, "!tz reset", "OK, I'll use each room's timezone for you (here Europe/Berlin)."},
		{ana, "!tz", "You haven't set a timezone"},
	})
	// A personal reminder is read and confirmed in the member's zone, named
	// when the room's differs.
	h.reply(ana, "!tz America/New_York")
	if got := h.reply(ana, "!remind me tomorrow 9:00 : x"); !strings.Contains(got, "Thu 26 Nov 09:00 America/New_York (in 1 day 2h)") {
		t.Errorf("confirmation in the member's zone: %q", got)
	}
	var due int64
	if err := h.env.Store.DB.QueryRow(context.Background(), "SELECT due_at FROM reminders WHERE kind=$1", store.ReminderPersonal).Scan(&due); err != nil {
		t.Fatal(err)
	}
	if got := time.UnixMilli(due).UTC(); !got.Equal(time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("stored due time %v, want 09:00 New York", got)
	}
}
