package reminders

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

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

// TestSchedule: what Schedule refuses, and what it fills in.
func TestSchedule(t *testing.T) {
	h := newHarness(t, "UTC")
	f := New(h.Env, zerolog.Nop())
	ctx := context.Background()
	due := h.Clock.Now().Add(time.Hour)
	for name, r := range map[string]store.Reminder{
		"no recipient":     {Kind: "personal", DueAt: due},
		"two recipients":   {Kind: "personal", DueAt: due, User: Ana, Room: Room},
		"no kind":          {User: Ana, DueAt: due},
		"no due time":      {Kind: "personal", User: Ana},
		"an unknown zone":  {Kind: "personal", User: Ana, DueAt: due, Zone: "Mars/Olympus_Mons"},
		"a malformed rule": {Kind: "personal", User: Ana, DueAt: due, RRule: "FREQ=SOMETIMES"},
	} {
		if _, ok, err := f.Schedule(ctx, r); err == nil || ok {
			t.Errorf("%s: scheduled (%v, %v)", name, ok, err)
		}
	}
	saved, ok, err := f.Schedule(ctx, store.Reminder{Kind: "personal", User: Ana, DueAt: due, Ref: "x:1:"})
	if err != nil || !ok || saved.Zone != "UTC" || !saved.SeriesStart.IsZero() || !saved.CreatedAt.Equal(h.Clock.Now()) {
		t.Errorf("one-off: %+v, %v, %v", saved, ok, err)
	}
	if _, ok, err := f.Schedule(ctx, store.Reminder{Kind: "personal", User: Ana, DueAt: due, Ref: "x:1:"}); ok || err != nil {
		t.Errorf("the same reference again: %v, %v", ok, err)
	}
	saved, ok, err = f.Schedule(ctx, store.Reminder{Kind: "personal", Room: Room, DueAt: due, RRule: "FREQ=DAILY", Zone: "Europe/Berlin"})
	if err != nil || !ok || saved.Zone != "Europe/Berlin" || !saved.SeriesStart.Equal(due) {
		t.Errorf("recurring: %+v, %v, %v", saved, ok, err)
	}
	start := due.Add(-24 * time.Hour)
	if saved, _, _ := f.Schedule(ctx, store.Reminder{Kind: "personal", Room: Room, DueAt: due, RRule: "FREQ=DAILY", SeriesStart: start}); !saved.SeriesStart.Equal(start) {
		t.Errorf("a given series start replaced: %v", saved.SeriesStart)
	}
}

// TestReminderLimits: the longest text and the most reminders one member
// may keep, exactly at the limit and one over.
func TestReminderLimits(t *testing.T) {
	h := newHarness(t, "UTC")
	if got := h.Reply(Ana, "!remind me in 2h : "+strings.Repeat("ü", maxReminderText)); !strings.HasPrefix(got, "OK, I'll remind you") {
		t.Errorf("a text of exactly the limit: %q", got)
	}
	for i := 2; i <= maxPersonalReminders; i++ {
		if got := h.Reply(Ana, "!remind me in 2h : x"); !strings.HasPrefix(got, "OK") {
			t.Fatalf("reminder %d: %q", i, got)
		}
	}
	if got := h.Reply(Ana, "!remind me in 2h : one too many"); got != "You have 50 reminders, the most I keep; cancel one first (`!remind list`)." {
		t.Errorf("one over the limit: %q", got)
	}
	if got := h.Reply(Ben, "!remind me in 2h : x"); !strings.HasPrefix(got, "OK") {
		t.Errorf("another member's limit is their own: %q", got)
	}
}

// TestRemindListAndCancel: the list shows repeats, says when there is
// none, and answers in the direct chat; cancel wants one number.
func TestRemindListAndCancel(t *testing.T) {
	h := newHarness(t, "UTC")
	if got := h.SendDM(Ana, "!remind list"); !strings.Contains(got, "None. Set one with `!remind me friday 18:00 : call the landlord`.") {
		t.Errorf("empty list: %q", got)
	}
	h.Reply(Ana, "!remind me every day 9:00 : stretch")
	h.Reply(Ana, "!remind me in 1h : call")
	got := h.SendDM(Ana, "!remind list")
	if len(h.Last) != 1 || !strings.Contains(got, "1. Thu 26 Nov 09:00 (every day) — stretch") || !strings.Contains(got, "2. Wed 25 Nov 13:00 — call") {
		t.Errorf("list in the DM: %q (%d messages)", got, len(h.Last))
	}
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!remind cancel 0", Want: "Which one?"},
		{From: Ana, Cmd: "!remind cancel -1", Want: "Which one?"},
		{From: Ana, Cmd: "!remind cancel 1 2", Want: "Which one?"},
		{From: Ana, Cmd: "!remind cancel x", Want: "Which one?"},
		{From: Ana, Cmd: "!remind cancel 3", Want: "You have no reminder number 3"},
		{From: Ana, Cmd: "!remind cancel 1", Want: "Cancelled reminder 1."},
		{From: Ana, Cmd: "!remind me every foo : x", Want: `"foo" as a repeat`},
		{From: Ana, Cmd: "!remind me fridya : x", Want: `"fridya"`},
	})
}

// TestUserTime: in the room a member's own zone is named when it is not
// the room's; in a direct chat it never is.
func TestUserTime(t *testing.T) {
	h := newHarness(t, "Europe/Berlin")
	h.Reply(Ana, "!tz Europe/Berlin")
	if got := h.Reply(Ana, "!remind me tomorrow 9:00 : x"); !strings.Contains(got, "Thu 26 Nov 09:00 (in") {
		t.Errorf("the room's zone named: %q", got)
	}
	h.Reply(Ben, "!tz America/New_York")
	if got := h.SendDM(Ben, "!remind me tomorrow 9:00 : x"); !strings.Contains(got, "Thu 26 Nov 09:00 (in") {
		t.Errorf("a zone named in the direct chat: %q", got)
	}
	if got := h.Reply(Ben, "!remind me tomorrow 10:00 : x"); !strings.Contains(got, "Thu 26 Nov 10:00 America/New_York (in") {
		t.Errorf("the member's zone not named in the room: %q", got)
	}
}

// TestReminderInMembersZone: a reminder about something shows its time in
// the member's own zone.
func TestReminderInMembersZone(t *testing.T) {
	h := newHarness(t, "Europe/Berlin")
	f := New(h.Env, zerolog.Nop())
	ctx := context.Background()
	about := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
	for _, user := range []id.UserID{Ana, Ben} {
		if _, _, err := f.Schedule(ctx, store.Reminder{Kind: "personal", User: user, Zone: "Europe/Berlin", Text: "the meeting",
			About: about, DueAt: h.Clock.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	h.Reply(Ben, "!tz America/New_York")
	out := h.AdvanceTo(h.Clock.Now().Add(time.Hour))
	want := map[id.UserID]string{Ana: "Mon 30 Nov 18:00", Ben: "Mon 30 Nov 12:00"}
	if len(out) != 2 {
		t.Fatalf("want two reminders, got:%s", Bodies(out))
	}
	for _, s := range out {
		if !strings.Contains(s.Msg.Body, "the meeting, "+want[s.DMUser]+" (in 5 days).") {
			t.Errorf("to %s: %q, want %s", s.DMUser, s.Msg.Body, want[s.DMUser])
		}
	}
}

// TestPrune: a sent reminder is kept a month after it could last be sent
// (so it is never sent twice), then deleted.
func TestPrune(t *testing.T) {
	h := newHarness(t, "UTC")
	h.Reply(Ana, "!remind me in 1h : x")
	due := h.Clock.Now().Add(time.Hour)
	count := func() int {
		var n int
		if err := h.Env.Store.DB.QueryRow(context.Background(), "SELECT COUNT(*) FROM reminders").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	Only(t, h.AdvanceTo(due))
	for _, at := range []time.Duration{2 * time.Hour, personalLateWindow + reminderRetention - time.Hour} {
		h.AdvanceTo(due.Add(at))
		if count() != 1 {
			t.Fatalf("pruned %v after it was sent", at)
		}
	}
	h.AdvanceTo(due.Add(personalLateWindow + reminderRetention + time.Minute))
	if count() != 0 {
		t.Error("not pruned a month after its window closed")
	}
}

// TestDueBatch: more reminders due at once than one batch are all sent,
// the scheduler asking to run again at once.
func TestDueBatch(t *testing.T) {
	h := newHarness(t, "UTC")
	for _, user := range []id.UserID{Ana, Ben, Chi} {
		for range (dueBatch + 1 + 2) / 3 {
			h.Send(user, "!remind me in 1h : x")
		}
	}
	h.Drain()
	h.Clock.Advance(time.Hour)
	if next := h.Due(); !next.Equal(h.Clock.Now()) {
		t.Errorf("after a full batch, next %v, want now", next)
	}
	if out := h.Drain(); len(out) != dueBatch {
		t.Errorf("first run sent %d, want %d", len(out), dueBatch)
	}
	if next := h.Due(); !next.IsZero() {
		t.Errorf("after the rest, next %v", next)
	}
	if out := h.Drain(); len(out) != 2 {
		t.Errorf("second run sent %d, want 2", len(out))
	}
}

// TestFollowUp: a follow-up runs once for each reminder of its kind sent or
// dropped, in that reminder's transaction: when it fails nothing is sent,
// the reminder stays due, and Due reports the error (the scheduler then
// retries in a minute, not at once in a busy loop).
func TestFollowUp(t *testing.T) {
	h := newHarness(t, "UTC")
	f := New(h.Env, zerolog.Nop())
	ctx := context.Background()
	var followed []string
	var result error // what the follow-up returns
	f.OnSent(store.ReminderDuty, func(_ context.Context, rem *store.Reminder, _ time.Time) error {
		followed = append(followed, rem.Text)
		return result
	})
	start := h.Clock.Now()
	for _, r := range []store.Reminder{
		{Kind: store.ReminderDuty, Text: "sent", DueAt: start.Add(2 * time.Hour)},
		{Kind: store.ReminderDuty, Text: "dropped", DueAt: start.Add(time.Hour), EndsAt: start.Add(90 * time.Minute)},
		{Kind: store.ReminderPersonal, Text: "no follow-up", DueAt: start.Add(2 * time.Hour)},
	} {
		r.User = Ana
		if _, _, err := f.Schedule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	now := start.Add(2 * time.Hour)
	result = errors.New("follow-up failed")
	if _, err := f.Due(ctx, now); !errors.Is(err, result) {
		t.Errorf("Due with a failing follow-up: %v", err)
	}
	if out := h.Drain(); len(out) != 1 || out[0].Msg.Body != "⏰ Reminder: no follow-up" {
		t.Errorf("sent with a failing follow-up:%s", Bodies(out))
	}
	result, followed = nil, nil
	if _, err := f.Due(ctx, now); err != nil {
		t.Fatal(err)
	}
	slices.Sort(followed)
	if out := h.Drain(); len(out) != 1 || out[0].Msg.Body != "⏰ Reminder: sent" || !slices.Equal(followed, []string{"dropped", "sent"}) {
		t.Errorf("retried: followed %q, sent:%s", followed, Bodies(out))
	}
	if _, err := f.Due(ctx, now); err != nil || len(followed) != 2 {
		t.Errorf("followed again: %q (%v)", followed, err)
	}
}

// TestDroppedLogged: reminders dropped as over are counted in the log, per
// kind and never with their text; a kind with none dropped logs no count.
func TestDroppedLogged(t *testing.T) {
	h := newHarness(t, "UTC")
	var logged bytes.Buffer
	f := New(h.Env, zerolog.New(&logged))
	ctx := context.Background()
	start := h.Clock.Now()
	for _, r := range []store.Reminder{
		// over half an hour after its time: dropped
		{Kind: store.ReminderDuty, Text: "secret duty", DueAt: start.Add(time.Hour), EndsAt: start.Add(90 * time.Minute)},
		// daily from the 25th, missed on the 25th, 26th and 27th: the 28th's is sent
		{Kind: store.ReminderPersonal, Text: "secret daily", DueAt: start.Add(time.Hour), RRule: "FREQ=DAILY"},
		{Kind: store.ReminderSession, Text: "secret session", DueAt: start.Add(72 * time.Hour)},
	} {
		r.User = Ana
		if _, _, err := f.Schedule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Due(ctx, start.Add(73*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if out := h.Drain(); len(out) != 2 {
		t.Errorf("want the daily and the session reminder, got:%s", Bodies(out))
	}
	if strings.Contains(logged.String(), "secret") {
		t.Errorf("a reminder's text logged: %s", logged.String())
	}
	counts := map[string]int{}
	for line := range strings.Lines(logged.String()) {
		var e struct {
			Kind    string `json:"kind"`
			Count   int    `json:"count"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if strings.HasPrefix(e.Message, "Dropped reminders") {
			counts[e.Kind] += e.Count
		}
	}
	if want := map[string]int{store.ReminderDuty: 1, store.ReminderPersonal: 3}; !maps.Equal(counts, want) {
		t.Errorf("dropped counted %v, want %v", counts, want)
	}
}
