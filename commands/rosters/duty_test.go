package rosters

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	. "quorum/commands/commandstest"
	"quorum/store"
)

func TestDutyReminders(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	if got := h.Reply(Ben, "!remind duty on"); got != "OK, I'll send you a direct message 1 day before each of your turns." {
		t.Errorf("opting in before any roster: %q", got)
	}
	newMinutes(t, h) // Ben: Mon 7 Dec and Mon 28 Dec, 18:00 Berlin
	if next := h.Due(); !next.Equal(time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("next reminder due %v, want 24h before ben's turn", next)
	}
	if out := h.AdvanceTo(time.Date(2026, 12, 6, 16, 59, 0, 0, time.UTC)); len(out) != 0 {
		t.Fatalf("reminder sent early: %+v", out)
	}
	dm := Only(t, h.AdvanceTo(time.Date(2026, 12, 6, 17, 0, 30, 0, time.UTC)))
	if dm.DMUser != Ben || dm.Msg.Body != "⏰ Reminder: your turn on the minutes roster, Mon 7 Dec 18:00 (in 23h 59m)." {
		t.Errorf("duty reminder: %+v", dm)
	}
	if kind, due, late := ReminderField(t, dm); kind != "duty" || due != "2026-12-06T17:00:00Z" || late {
		t.Errorf("quorum.reminder = %s %s %v", kind, due, late)
	}
	// It fires once; the next is planned for ben's next turn.
	if out := h.AdvanceTo(time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)); len(out) != 0 {
		t.Fatalf("reminder sent twice: %+v", out)
	}
	if next := h.Due(); !next.Equal(time.Date(2026, 12, 27, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("next reminder due %v, want 24h before 28 Dec", next)
	}
	// Re-planning (any change to the roster) does not send it again.
	h.Send(Dan, "!roster minutes add @dan")
	h.Drain()
	if out := h.AdvanceTo(time.Date(2026, 12, 6, 19, 0, 0, 0, time.UTC)); len(out) != 0 {
		t.Fatalf("a re-plan repeated a sent reminder: %+v", out)
	}
	if got := h.Reply(Ben, "!remind duty off"); got != "OK, no more reminders of your turns." {
		t.Errorf("opting out: %q", got)
	}
	if next := h.Due(); !next.IsZero() {
		t.Errorf("a reminder is still planned after opting out: %v", next)
	}
}

// TestDutyReminderLate: a reminder that fell due while the bot was down is
// sent late while the turn lasts, and dropped once it is over.
func TestDutyReminderLate(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h)
	h.Send(Ana, "!remind duty on 2h") // Ana: Mon 30 Nov 18:00 Berlin, reminded at 16:00
	h.Drain()
	h.Send(Ben, "!remind duty on 2h") // Ben: Mon 7 Dec
	h.Drain()
	// "Down" until the day after ana's turn began: the turn lasts a week.
	dm := Only(t, h.AdvanceTo(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)))
	if dm.DMUser != Ana || !strings.HasPrefix(dm.Msg.Body, "⏰ Late reminder (I was offline when it was due): your turn on the minutes roster, Mon 30 Nov 18:00 (began 16h ago).") {
		t.Errorf("late reminder: %+v", dm)
	}
	if _, _, late := ReminderField(t, dm); !late {
		t.Error("not marked late")
	}
	// Down past the end of ben's turn (it ends when the next begins): dropped.
	if out := h.AdvanceTo(time.Date(2026, 12, 14, 18, 0, 0, 0, time.UTC)); len(out) != 0 {
		t.Fatalf("a reminder of a turn that is over was sent: %+v", out)
	}
	var dropped int
	err := h.Env.Store.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM reminders WHERE dropped=1 AND user_id=$1", Ben).Scan(&dropped)
	if err != nil || dropped != 1 {
		t.Errorf("dropped reminders of ben: %d, %v", dropped, err)
	}
}

// TestDutyReminderInsideLead: a turn nearer than the lead time is
// reminded of at once, on time: it is not late, since nothing was missed.
func TestDutyReminderInsideLead(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	newMinutes(t, h) // ana: Mon 30 Nov 18:00 Berlin, in 5 days 5 hours
	if got := h.Reply(Ana, "!remind duty on 6d"); !strings.Contains(got, "Your next turn is Mon 30 Nov 18:00.") {
		t.Errorf("opting in: %q", got)
	}
	// The scheduler runs a minute later, within the grace.
	dm := Only(t, h.AdvanceTo(h.Clock.Now().Add(time.Minute)))
	if dm.DMUser != Ana || dm.Msg.Body != "⏰ Reminder: your turn on the minutes roster, Mon 30 Nov 18:00 (in 5 days)." {
		t.Errorf("reminder inside the lead time: %q to %s", dm.Msg.Body, dm.DMUser)
	}
	if _, due, late := ReminderField(t, dm); late || due != "2026-11-25T12:00:00Z" {
		t.Errorf("quorum.reminder due %s late %v, want due when asked and not late", due, late)
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
			h.Clock.Advance(tc.spring.Sub(h.Clock.Now()))
			h.Send(Ana, "!roster new cleaning every week from today 18:00 : @ana @ben")
			turns := turnsOf(t, Only(t, h.Drain()).Msg)
			if !strings.HasSuffix(turns[0], "T"+tc.before+":00:00Z") || !strings.HasSuffix(turns[1], "T"+tc.after+":00:00Z") {
				t.Errorf("spring: turns %v; want 18:00 local (%s:00 then %s:00 UTC)", turns[:2], tc.before, tc.after)
			}
			h.Reply(Ben, "!remind duty on 24h")
			h.Reply(Ana, "!tz "+tc.zone)
			h.Reply(Ana, "!remind me every day 9:00 : stretch")
			// Run the days across the change: each day brings ana's reminder,
			// once, at 09:00 local, and the week ben's duty reminder, once, at
			// 18:00 local the day before his turn; nothing else.
			days := func(season string, from time.Time, n int) {
				t.Helper()
				var dutyAt []time.Time
				for day := 1; day <= n; day++ {
					personal := 0
					for _, s := range h.AdvanceTo(from.AddDate(0, 0, day)) {
						kind, due, _ := ReminderField(t, s)
						at, _ := time.Parse(time.RFC3339, due)
						switch {
						case kind == "personal" && s.DMUser == Ana:
							personal++
							if at.In(loc).Hour() != 9 || at.In(loc).Minute() != 0 {
								t.Errorf("%s: daily reminder at %v local", season, at.In(loc))
							}
						case kind == "duty" && s.DMUser == Ben:
							dutyAt = append(dutyAt, at)
						default:
							t.Errorf("%s, day %d: unexpected %s reminder to %s", season, day, kind, s.DMUser)
						}
					}
					if personal != 1 {
						t.Errorf("%s, day %d: %d daily reminders, want 1", season, day, personal)
					}
				}
				want := from.AddDate(0, 0, n-1).In(loc)
				if len(dutyAt) != 1 || dutyAt[0].In(loc).Hour() != 18 || dutyAt[0].In(loc).Day() != want.Day() {
					t.Errorf("%s: duty reminders %v; want one, at 18:00 local on %s", season, dutyAt, want.Format("Mon 2 Jan"))
				}
			}
			days("spring", tc.spring, tc.springDays)
			// Autumn: the same roster, months later.
			// Months down: the daily reminder comes once, not once a day missed.
			h.Clock.Advance(tc.fall.Sub(h.Clock.Now()))
			h.Due()
			if caught := h.Drain(); len(caught) != 1 || caught[0].DMUser != Ana {
				t.Errorf("after months down, want ana's daily reminder once, got:%s", Bodies(caught))
			}
			got := turnsOf(t, Only(t, h.SendAndDrain(Ana, "!roster cleaning 2")).Msg)
			if !strings.HasSuffix(got[0], "T"+tc.after+":00:00Z") || !strings.HasSuffix(got[1], "T"+tc.before+":00:00Z") {
				t.Errorf("autumn: turns %v; want 18:00 local (%s:00 then %s:00 UTC)", got, tc.after, tc.before)
			}
			days("autumn", tc.fall, tc.fallDays)
		})
	}
}

func TestDutyReminderMistakes(t *testing.T) {
	h := rosterHarness(t, "UTC")
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!remind duty", Want: "`!remind duty on`"},
		{From: Ana, Cmd: "!remind duty on forever", Want: `"forever"`},
		{From: Ana, Cmd: "!remind duty on 31d", Want: "at most 30 days"},
	})
}

// TestDutyReminderSettings: the configured lead time, the longest lead
// exactly, both rosters of a member planned, and the line in !remind list.
func TestDutyReminderSettings(t *testing.T) {
	h := rosterHarness(t, "Europe/Berlin")
	if got := h.SendDM(Ben, "!remind list"); !strings.Contains(got, "Duty reminders: off (`!remind duty on`).") {
		t.Errorf("list before opting in: %q", got)
	}
	h.Env.Config.Reminders.DutyLead = "12h"
	if got := h.Reply(Ben, "!remind duty on"); got != "OK, I'll send you a direct message 12h before each of your turns." {
		t.Errorf("the configured lead: %q", got)
	}
	if got := h.SendDM(Ben, "!remind list"); !strings.Contains(got, "Duty reminders: on, 12h before your turns.") {
		t.Errorf("list after opting in: %q", got)
	}
	if got := h.Reply(Ben, "!remind duty on 30d"); !strings.HasPrefix(got, "OK, I'll send you a direct message 30 days before each of your turns.") {
		t.Errorf("the longest lead: %q", got)
	}
	// Ben is on two rosters: both turns are planned when he opts in.
	newMinutes(t, h)
	h.Send(Ana, "!roster new kitchen every week from tuesday 18:00 : @ben @chi")
	h.Drain()
	h.Reply(Ben, "!remind duty off")
	h.Reply(Ben, "!remind duty on 1d")
	planned, err := h.Env.Store.Reminders().Pending(context.Background(), Ben, store.ReminderDuty)
	if err != nil {
		t.Fatal(err)
	}
	var about []string
	for _, p := range planned {
		about = append(about, p.About.UTC().Format(time.RFC3339))
	}
	slices.Sort(about)
	if want := []string{"2026-12-01T17:00:00Z", "2026-12-07T17:00:00Z"}; !slices.Equal(about, want) {
		t.Errorf("planned reminders about %v, want %v", about, want)
	}
}
