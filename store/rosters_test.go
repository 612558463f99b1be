package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

func TestRosters(t *testing.T) {
	st, ctx := open(t), context.Background()
	const room = id.RoomID("!r:test")
	at := time.UnixMilli(1_800_000_000_000)
	ro := &Roster{Room: room, Name: "minutes", Start: at.Add(time.Hour), Zone: "Europe/Berlin", RRule: "FREQ=WEEKLY",
		CreatedBy: "@ana:test", CreatedAt: at}
	if err := st.Rosters().Create(ctx, ro, []id.UserID{"@ana:test", "@ben:test"}); err != nil {
		t.Fatal(err)
	}
	// Names are unique per room.
	if err := st.Rosters().Create(ctx, &Roster{Room: room, Name: "minutes", Zone: "UTC", RRule: "FREQ=DAILY", CreatedAt: at}, nil); err == nil {
		t.Error("a second roster of the same name was stored")
	}
	if err := st.Rosters().Create(ctx, &Roster{Room: "!other:test", Name: "minutes", Zone: "UTC", RRule: "FREQ=DAILY", CreatedAt: at}, nil); err != nil {
		t.Errorf("the same name in another room: %v", err)
	}
	got, ok, err := st.Rosters().Get(ctx, room, "minutes")
	if err != nil || !ok || got.ID != ro.ID || !got.Start.Equal(ro.Start) || got.Zone != "Europe/Berlin" || !got.End.IsZero() {
		t.Fatalf("Get = %+v, %v, %v", got, ok, err)
	}

	later := at.Add(24 * time.Hour)
	if ok, err := st.Rosters().RemoveMember(ctx, ro.ID, "@ana:test", later); err != nil || !ok {
		t.Fatalf("remove: %v %v", ok, err)
	}
	if ok, _ := st.Rosters().RemoveMember(ctx, ro.ID, "@ana:test", later); ok {
		t.Error("removed twice")
	}
	if err := st.Rosters().AddMember(ctx, ro.ID, "@ana:test", later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Rosters().Skip(ctx, ro.ID, at.Add(8*24*time.Hour)); !ok {
		t.Error("skip not recorded")
	}
	if ok, _ := st.Rosters().Skip(ctx, ro.ID, at.Add(8*24*time.Hour)); ok {
		t.Error("skipped twice")
	}
	if err := st.Rosters().AddAway(ctx, ro.ID, Away{User: "@ben:test", From: later, To: later.Add(72 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, user := range []id.UserID{"@ben:test", "@ana:test"} { // the second replaces the first
		if err := st.Rosters().Assign(ctx, ro.ID, at.Add(15*24*time.Hour), user, 7); err != nil {
			t.Fatal(err)
		}
	}
	s, err := st.Rosters().Schedule(ctx, ro.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Members) != 3 || s.Members[0].User != "@ana:test" || !s.Members[0].Removed.Equal(later) ||
		s.Members[2].User != "@ana:test" || !s.Members[2].Removed.IsZero() || s.Members[2].Pos <= s.Members[1].Pos {
		t.Errorf("members = %+v", s.Members)
	}
	if !s.Members[0].Active(at) || s.Members[0].Active(later) || !s.Members[2].Active(later.Add(time.Hour)) {
		t.Error("membership periods are wrong")
	}
	if len(s.Skips) != 1 || !s.Skips[at.Add(8*24*time.Hour).UnixMilli()] || len(s.Aways) != 1 ||
		len(s.Overrides) != 1 || s.Overrides[at.Add(15*24*time.Hour).UnixMilli()] != "@ana:test" {
		t.Errorf("schedule = %+v", s)
	}
	mine, err := st.Rosters().OfUser(ctx, "@ana:test")
	if err != nil || len(mine) != 1 || mine[0].ID != ro.ID {
		t.Errorf("OfUser = %v, %v", mine, err)
	}

	// Deleting a roster takes its inputs and swaps with it.
	sw := &Swap{Room: room, RosterID: ro.ID, Requester: "@ana:test", Target: "@ben:test", RequesterTurn: at, TargetTurn: later, CreatedAt: at, ExpiresAt: at}
	if err := st.Swaps().Create(ctx, sw); err != nil || sw.Number != 1 {
		t.Fatalf("swap: %v, number %d", err, sw.Number)
	}
	if err := st.Rosters().Delete(ctx, ro.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	err = st.DB.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM roster_members WHERE roster_id=$1) + (SELECT COUNT(*) FROM roster_skips WHERE roster_id=$1)
		+ (SELECT COUNT(*) FROM roster_aways WHERE roster_id=$1) + (SELECT COUNT(*) FROM roster_overrides WHERE roster_id=$1)
		+ (SELECT COUNT(*) FROM swaps WHERE roster_id=$1)`, ro.ID).Scan(&left)
	if err != nil || left != 0 {
		t.Errorf("%d rows left after deleting the roster (%v)", left, err)
	}
}

func TestSwaps(t *testing.T) {
	st, ctx := open(t), context.Background()
	at := time.UnixMilli(1_800_000_000_000)
	ro := &Roster{Room: "!r:test", Name: "x", Start: at, Zone: "UTC", RRule: "FREQ=DAILY", CreatedAt: at}
	if err := st.Rosters().Create(ctx, ro, nil); err != nil {
		t.Fatal(err)
	}
	var swaps []*Swap
	for _, room := range []id.RoomID{"!r:test", "!r:test", "!s:test"} {
		sw := &Swap{Room: room, RosterID: ro.ID, Requester: "@ana:test", Target: "@ben:test", RequesterTurn: at, TargetTurn: at.Add(time.Hour), CreatedAt: at, ExpiresAt: at}
		if err := st.Swaps().Create(ctx, sw); err != nil {
			t.Fatal(err)
		}
		swaps = append(swaps, sw)
	}
	if swaps[0].Number != 1 || swaps[1].Number != 2 || swaps[2].Number != 1 {
		t.Errorf("numbers per room: %d %d %d", swaps[0].Number, swaps[1].Number, swaps[2].Number)
	}
	if list, _ := st.Swaps().ForTarget(ctx, "@ben:test", 1); len(list) != 2 {
		t.Errorf("ForTarget found %d", len(list))
	}
	if ok, _ := st.Swaps().Decide(ctx, swaps[0].ID, SwapAccepted, at); !ok {
		t.Error("decide failed")
	}
	if ok, _ := st.Swaps().Decide(ctx, swaps[0].ID, SwapDeclined, at); ok {
		t.Error("a swap was decided twice")
	}
	if err := st.Swaps().CancelInvolving(ctx, ro.ID, "@ben:test", at); err != nil {
		t.Fatal(err)
	}
	first, _, _ := st.Swaps().ByNumber(ctx, "!r:test", 1)
	second, _, _ := st.Swaps().Get(ctx, swaps[1].ID)
	if first.Status != SwapAccepted || second.Status != SwapCancelled || !second.RequesterTurn.Equal(at) {
		t.Errorf("statuses after cancelling: %s %s", first.Status, second.Status)
	}
}

func TestReminders(t *testing.T) {
	st, ctx := open(t), context.Background()
	at := time.UnixMilli(1_800_000_000_000)
	personal := func(text string, due time.Time) *Reminder {
		r := &Reminder{Kind: ReminderPersonal, User: "@ana:test", Text: text, DueAt: due, Zone: "UTC", CreatedAt: at}
		if ok, err := st.Reminders().Add(ctx, r); err != nil || !ok {
			t.Fatalf("add: %v %v", ok, err)
		}
		return r
	}
	a, b := personal("a", at.Add(time.Hour)), personal("b", at.Add(time.Minute))
	if a.Number != 1 || b.Number != 2 {
		t.Errorf("numbers %d %d", a.Number, b.Number)
	}
	duty := &Reminder{Kind: ReminderDuty, User: "@ben:test", Ref: "roster:1:5", DueAt: at.Add(2 * time.Hour), EndsAt: at.Add(48 * time.Hour), CreatedAt: at}
	if ok, _ := st.Reminders().Add(ctx, duty); !ok {
		t.Fatal("duty reminder not added")
	}
	if ok, _ := st.Reminders().Add(ctx, &Reminder{Kind: ReminderDuty, User: "@ben:test", Ref: "roster:1:5", DueAt: at, CreatedAt: at}); ok {
		t.Error("the same reminder (kind, user, ref) was added twice")
	}
	if next, _ := st.Reminders().NextDue(ctx); !next.Equal(at.Add(time.Minute)) {
		t.Errorf("NextDue = %v", next)
	}
	due, _ := st.Reminders().Due(ctx, at.Add(time.Hour), 10)
	if len(due) != 2 || due[0] != b.ID || due[1] != a.ID {
		t.Errorf("Due = %v", due)
	}
	if ok, _ := st.Reminders().MarkSent(ctx, b.ID, at, false); !ok {
		t.Error("MarkSent failed")
	}
	if ok, _ := st.Reminders().MarkSent(ctx, b.ID, at, false); ok {
		t.Error("a reminder was marked sent twice")
	}
	// A sent reminder keeps its ref taken: planning it again is a no-op.
	if ok, _ := st.Reminders().MarkSent(ctx, duty.ID, at, true); !ok {
		t.Error("MarkSent (dropped) failed")
	}
	if sent, _ := st.Reminders().Sent(ctx, ReminderDuty, "@ben:test", "roster:1:5"); !sent {
		t.Error("Sent does not see the sent reminder")
	}
	if err := st.Reminders().CancelUnsent(ctx, ReminderDuty, "", "roster:1:"); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := st.Reminders().Get(ctx, duty.ID); !ok || !got.Dropped || got.SentAt.IsZero() {
		t.Errorf("cancelling unsent reminders touched a sent one: %+v", got)
	}
	if pending, _ := st.Reminders().Pending(ctx, "@ana:test", ReminderPersonal); len(pending) != 1 || pending[0].Text != "a" {
		t.Errorf("Pending = %+v", pending)
	}
	if ok, _ := st.Reminders().CancelNumber(ctx, "@ana:test", 1); !ok {
		t.Error("CancelNumber failed")
	}
	// Pruning forgets what was sent long ago and whose turn is over.
	if err := st.Reminders().Prune(ctx, at.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.DB.QueryRow(ctx, "SELECT COUNT(*) FROM reminders").Scan(&n); err != nil || n != 1 {
		t.Errorf("%d reminders after pruning, want the duty one (its turn is not over): %v", n, err)
	}

	if _, on, _ := st.Reminders().Lead(ctx, "@ana:test", ReminderDuty); on {
		t.Error("duty reminders on by default")
	}
	if err := st.Reminders().SetLead(ctx, "@ana:test", ReminderDuty, 12*time.Hour); err != nil {
		t.Fatal(err)
	}
	if lead, on, _ := st.Reminders().Lead(ctx, "@ana:test", ReminderDuty); !on || lead != 12*time.Hour {
		t.Errorf("Lead = %v %v", lead, on)
	}
	if _, on, _ := st.Reminders().Lead(ctx, "@ana:test", ReminderSession); on {
		t.Error("opting in to duty reminders opted in to session reminders")
	}
	if err := st.Reminders().SetLead(ctx, "@ana:test", ReminderDuty, 0); err != nil {
		t.Fatal(err)
	}
	if _, on, _ := st.Reminders().Lead(ctx, "@ana:test", ReminderDuty); on {
		t.Error("duty reminders still on")
	}
}
