package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// TestReminderRoundTrip: every field reads back as written; zero times stay
// zero; a recurring reminder moves on with Reschedule.
func TestReminderRoundTrip(t *testing.T) {
	st, ctx := open(t), context.Background()
	at := time.UnixMilli(1_800_000_000_000)
	r := &Reminder{Kind: ReminderSession, Room: "!r", Ref: "session:3", Text: "Reading group", About: at.Add(time.Hour),
		DueAt: at, EndsAt: at.Add(2 * time.Hour), Zone: "Europe/Berlin", RRule: "FREQ=WEEKLY", SeriesStart: at.Add(-time.Hour),
		CreatedAt: at.Add(-time.Minute)}
	if ok, err := st.Reminders().Add(ctx, r); !ok || err != nil || r.ID == 0 || r.Number != 0 {
		t.Fatalf("add: %v %v, ID %d, number %d (only personal reminders are numbered)", ok, err, r.ID, r.Number)
	}
	got, ok, err := st.Reminders().Get(ctx, r.ID)
	if err != nil || !ok || got.Kind != ReminderSession || got.User != "" || got.Room != "!r" || got.Ref != "session:3" ||
		got.Text != "Reading group" || !got.About.Equal(r.About) || !got.DueAt.Equal(at) || !got.EndsAt.Equal(r.EndsAt) ||
		got.Zone != "Europe/Berlin" || got.RRule != "FREQ=WEEKLY" || !got.SeriesStart.Equal(r.SeriesStart) ||
		!got.CreatedAt.Equal(r.CreatedAt) || !got.SentAt.IsZero() || got.Dropped {
		t.Errorf("read back %+v, %v, %v", got, ok, err)
	}
	if _, ok, err := st.Reminders().Get(ctx, r.ID+1); ok || err != nil {
		t.Errorf("a reminder that does not exist: %v %v", ok, err)
	}
	week := 7 * 24 * time.Hour
	if err := st.Reminders().Reschedule(ctx, r.ID, at.Add(week), at.Add(week+time.Hour), time.Time{}); err != nil {
		t.Fatal(err)
	}
	got, _, _ = st.Reminders().Get(ctx, r.ID)
	if !got.DueAt.Equal(at.Add(week)) || !got.About.Equal(at.Add(week+time.Hour)) || !got.EndsAt.IsZero() {
		t.Errorf("after Reschedule: due %v, about %v, ends %v", got.DueAt, got.About, got.EndsAt)
	}
}

// TestRemindersDue: a reminder is due at exactly its time, earliest first,
// at most limit of them, and never once sent.
func TestRemindersDue(t *testing.T) {
	st, ctx := open(t), context.Background()
	at := time.UnixMilli(1_800_000_000_000)
	if next, err := st.Reminders().NextDue(ctx); err != nil || !next.IsZero() {
		t.Errorf("NextDue with none = %v, %v", next, err)
	}
	add := func(user id.UserID, due time.Time) int64 {
		t.Helper()
		r := &Reminder{Kind: ReminderPersonal, User: user, Text: "x", DueAt: due, CreatedAt: at}
		if ok, err := st.Reminders().Add(ctx, r); !ok || err != nil {
			t.Fatalf("add: %v %v", ok, err)
		}
		return r.ID
	}
	later := add("@a:x", at.Add(time.Minute))
	first := add("@b:x", at)
	same := add("@c:x", at)
	sent := add("@d:x", at.Add(-time.Hour))
	if ok, err := st.Reminders().MarkSent(ctx, sent, at, false); !ok || err != nil {
		t.Fatalf("mark sent: %v %v", ok, err)
	}
	for _, tc := range []struct {
		now   time.Time
		limit int
		want  []int64
	}{
		{at.Add(-time.Millisecond), 10, nil},
		{at, 10, []int64{first, same}},
		{at.Add(time.Minute), 10, []int64{first, same, later}},
		{at.Add(time.Minute), 2, []int64{first, same}},
	} {
		if due, err := st.Reminders().Due(ctx, tc.now, tc.limit); err != nil || !equalIDs(due, tc.want) {
			t.Errorf("Due(%v, %d) = %v, %v; want %v", tc.now.Sub(at), tc.limit, due, err, tc.want)
		}
	}
	if next, err := st.Reminders().NextDue(ctx); err != nil || !next.Equal(at) {
		t.Errorf("NextDue = %v, %v; want %v (not the sent one)", next, err, at)
	}
}

// TestPersonalReminderNumbers: a member's unsent reminders are numbered
// 1, 2, ...; a number is free again once its reminder went; cancelling a
// number that is not there reports false.
func TestPersonalReminderNumbers(t *testing.T) {
	st, ctx := open(t), context.Background()
	at := time.UnixMilli(1_800_000_000_000)
	add := func(user id.UserID) *Reminder {
		t.Helper()
		r := &Reminder{Kind: ReminderPersonal, User: user, Text: "x", DueAt: at, CreatedAt: at}
		if ok, err := st.Reminders().Add(ctx, r); !ok || err != nil {
			t.Fatalf("add: %v %v", ok, err)
		}
		return r
	}
	one, two, other := add("@ana:x"), add("@ana:x"), add("@ben:x")
	if one.Number != 1 || two.Number != 2 || other.Number != 1 {
		t.Errorf("numbers %d %d %d", one.Number, two.Number, other.Number)
	}
	if ok, _ := st.Reminders().MarkSent(ctx, two.ID, at, false); !ok {
		t.Fatal("mark sent")
	}
	again := add("@ana:x")
	if again.Number != 2 {
		t.Errorf("after #2 went, the next is #%d, want 2", again.Number)
	}
	if ok, err := st.Reminders().CancelNumber(ctx, "@ana:x", 7); ok || err != nil {
		t.Errorf("cancel a number that is not there: %v %v", ok, err)
	}
	if ok, err := st.Reminders().CancelNumber(ctx, "@ben:x", 2); ok || err != nil {
		t.Errorf("cancel another member's number: %v %v", ok, err)
	}
	if ok, err := st.Reminders().CancelNumber(ctx, "@ana:x", 1); !ok || err != nil {
		t.Errorf("cancel #1: %v %v", ok, err)
	}
	if pending, _ := st.Reminders().Pending(ctx, "@ana:x", ReminderPersonal); len(pending) != 1 || pending[0].Number != 2 {
		t.Errorf("pending after cancelling #1: %+v", pending)
	}
	if ok, err := st.Reminders().CancelNumber(ctx, "@ana:x", 2); !ok || err != nil {
		t.Errorf("cancel the new #2: %v %v", ok, err)
	}
	if _, ok, _ := st.Reminders().Get(ctx, again.ID); ok {
		t.Error("the new #2 is still there")
	}
	if _, ok, _ := st.Reminders().Get(ctx, two.ID); !ok {
		t.Error("cancelling #2 deleted the old #2, which was sent")
	}
	if pending, _ := st.Reminders().Pending(ctx, "@ana:x", ReminderDuty); len(pending) != 0 {
		t.Errorf("pending duty reminders: %+v", pending)
	}
}

// TestReminderRefs: Sent looks only at the member's own delivered
// reminder of that ref; CancelUnsent takes unsent ones by prefix, for one
// member or for everyone.
func TestReminderRefs(t *testing.T) {
	st, ctx := open(t), context.Background()
	at := time.UnixMilli(1_800_000_000_000)
	add := func(user id.UserID, room id.RoomID, ref string) *Reminder {
		t.Helper()
		r := &Reminder{Kind: ReminderDuty, User: user, Room: room, Ref: ref, DueAt: at, CreatedAt: at}
		if ok, err := st.Reminders().Add(ctx, r); !ok || err != nil {
			t.Fatalf("add %s %s: %v %v", user, ref, ok, err)
		}
		return r
	}
	ana1 := add("@ana:x", "", "roster:1:100")
	add("@ana:x", "", "roster:1:200")
	ben1 := add("@ben:x", "", "roster:1:100")
	add("@ben:x", "", "roster:1:150")
	add("@ben:x", "", "roster:10:100")
	room := add("", "!r", "roster:1:100")
	if sent, err := st.Reminders().Sent(ctx, ReminderDuty, "@ana:x", "roster:1:100"); sent || err != nil {
		t.Errorf("Sent before sending: %v %v", sent, err)
	}
	for _, id := range []int64{ben1.ID, room.ID} {
		if ok, _ := st.Reminders().MarkSent(ctx, id, at, false); !ok {
			t.Fatal("mark sent")
		}
	}
	if sent, _ := st.Reminders().Sent(ctx, ReminderDuty, "@ana:x", "roster:1:100"); sent {
		t.Error("Sent sees another member's reminder")
	}
	if sent, _ := st.Reminders().Sent(ctx, ReminderDuty, "@ben:x", "roster:1:100"); !sent {
		t.Error("Sent does not see the member's own")
	}
	if sent, _ := st.Reminders().Sent(ctx, ReminderSession, "@ben:x", "roster:1:100"); sent {
		t.Error("Sent sees a reminder of another kind")
	}

	if err := st.Reminders().CancelUnsent(ctx, ReminderDuty, "@ana:x", "roster:1:1"); err != nil {
		t.Fatal(err)
	}
	left := func(user id.UserID) int {
		t.Helper()
		p, err := st.Reminders().Pending(ctx, user, ReminderDuty)
		if err != nil {
			t.Fatal(err)
		}
		return len(p)
	}
	if left("@ana:x") != 1 || left("@ben:x") != 2 {
		t.Errorf("after cancelling ana's roster:1:1*: ana %d, ben %d unsent; want 1 and 2", left("@ana:x"), left("@ben:x"))
	}
	if _, ok, _ := st.Reminders().Get(ctx, ana1.ID); ok {
		t.Error("ana's roster:1:100 was not cancelled")
	}
	if err := st.Reminders().CancelUnsent(ctx, ReminderDuty, "", "roster:1:"); err != nil {
		t.Fatal(err)
	}
	if left("@ana:x") != 0 || left("@ben:x") != 1 {
		t.Errorf("after cancelling everyone's roster:1:*: ana %d, ben %d unsent; want 0 and 1 (roster:10 stays)", left("@ana:x"), left("@ben:x"))
	}
	if _, ok, _ := st.Reminders().Get(ctx, ben1.ID); !ok {
		t.Error("a sent reminder was cancelled")
	}
}

// TestReminderPrune: only reminders sent before the cutoff whose end is
// before it too are forgotten.
func TestReminderPrune(t *testing.T) {
	st, ctx := open(t), context.Background()
	cutoff := time.UnixMilli(1_800_000_000_000)
	add := func(sent, ends time.Time) int64 {
		t.Helper()
		r := &Reminder{Kind: ReminderPersonal, User: "@a:x", DueAt: sent, EndsAt: ends, CreatedAt: sent}
		if ok, err := st.Reminders().Add(ctx, r); !ok || err != nil {
			t.Fatal(err)
		}
		if !sent.IsZero() {
			if ok, _ := st.Reminders().MarkSent(ctx, r.ID, sent, false); !ok {
				t.Fatal("mark sent")
			}
		}
		return r.ID
	}
	gone := add(cutoff.Add(-time.Millisecond), time.Time{})
	endedBefore := add(cutoff.Add(-time.Hour), cutoff.Add(-time.Millisecond))
	sentAtCutoff := add(cutoff, time.Time{})
	endsAtCutoff := add(cutoff.Add(-time.Hour), cutoff)
	unsent := add(time.Time{}, time.Time{})
	if err := st.Reminders().Prune(ctx, cutoff); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   int64
		kept bool
	}{{gone, false}, {endedBefore, false}, {sentAtCutoff, true}, {endsAtCutoff, true}, {unsent, true}} {
		if _, ok, _ := st.Reminders().Get(ctx, tc.id); ok != tc.kept {
			t.Errorf("reminder %d kept = %v, want %v", tc.id, ok, tc.kept)
		}
	}
}

// TestReminderLeads: opt-ins per member and kind; a lead of 0 or less
// turns reminders off.
func TestReminderLeads(t *testing.T) {
	st, ctx := open(t), context.Background()
	for _, lead := range []time.Duration{time.Hour, 90 * time.Minute} {
		if err := st.Reminders().SetLead(ctx, "@a:x", ReminderDuty, lead); err != nil {
			t.Fatal(err)
		}
	}
	if lead, on, err := st.Reminders().Lead(ctx, "@a:x", ReminderDuty); !on || lead != 90*time.Minute || err != nil {
		t.Errorf("lead = %v %v %v", lead, on, err)
	}
	if _, on, _ := st.Reminders().Lead(ctx, "@b:x", ReminderDuty); on {
		t.Error("another member opted in")
	}
	if err := st.Reminders().SetLead(ctx, "@a:x", ReminderDuty, -time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, on, _ := st.Reminders().Lead(ctx, "@a:x", ReminderDuty); on {
		t.Error("a negative lead left reminders on")
	}
}
