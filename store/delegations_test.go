package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// newDelegation stores an active delegation of user as role, elected by a
// new motion in room.
func newDelegation(t *testing.T, st *Store, room id.RoomID, user id.UserID, role string, since time.Time) *Delegation {
	t.Helper()
	m := newMotion(t, st, room, []id.UserID{user})
	d := &Delegation{Room: room, User: user, Role: role, Mandate: "mandate of " + role, Motion: m.ID,
		Since: since, TermEnds: since.Add(90 * 24 * time.Hour), PowerLevel: 50, PowerBase: 10}
	if err := st.Delegations().Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDelegations(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	since := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	first := newDelegation(t, st, "!a", "@ben:x", "negotiator", since)
	second := newDelegation(t, st, "!a", "@ben:x", "delegate", since)
	other := newDelegation(t, st, "!b", "@ana:x", "negotiator", since)
	if first.Number != 1 || second.Number != 2 || other.Number != 1 || first.Status != DelegationActive {
		t.Fatalf("numbers %d %d %d (per room), status %s", first.Number, second.Number, other.Number, first.Status)
	}

	got, ok, err := st.Delegations().ByNumber(ctx, "!a", 1)
	if err != nil || !ok {
		t.Fatalf("by number: %v %v", ok, err)
	}
	if got.ID != first.ID || got.User != "@ben:x" || got.Mandate != "mandate of negotiator" || !got.Since.Equal(since) ||
		!got.TermEnds.Equal(first.TermEnds) || got.PowerLevel != 50 || got.PowerBase != 10 || got.ElectionNumber != 1 || got.RecallNumber != 0 {
		t.Errorf("read back %+v", got)
	}
	if _, ok, _ := st.Delegations().ByNumber(ctx, "!a", 3); ok {
		t.Error("found a delegation that does not exist")
	}

	active, err := st.Delegations().Active(ctx, "!a")
	if err != nil || len(active) != 2 || active[0].Role != "delegate" || active[1].Role != "negotiator" {
		t.Fatalf("active in !a = %v, %v (want by role)", active, err)
	}

	// A recall ends a mandate once; a later lapse changes nothing.
	recall := newMotion(t, st, "!a", []id.UserID{"@chi:x"})
	at := since.Add(time.Hour)
	if ended, err := st.Delegations().End(ctx, first.ID, DelegationRecalled, at, recall.ID); err != nil || !ended {
		t.Fatalf("end: %v %v", ended, err)
	}
	if ended, _ := st.Delegations().End(ctx, first.ID, DelegationLapsed, at.Add(time.Hour), 0); ended {
		t.Fatal("ended twice")
	}
	got, _, _ = st.Delegations().Get(ctx, first.ID)
	if got.Status != DelegationRecalled || !got.EndedAt.Equal(at) || got.EndedBy != recall.ID || got.RecallNumber != recall.Number {
		t.Errorf("after the recall: %+v", got)
	}
	all, err := st.Delegations().AllActive(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("all active = %v, %v", all, err)
	}
	mine, _ := st.Delegations().OfUser(ctx, "!a", "@ben:x")
	if len(mine) != 2 || mine[0].Number != 2 {
		t.Errorf("of user (newest first) = %v", mine)
	}
	role, _ := st.Delegations().OfRole(ctx, "!a", "negotiator")
	if len(role) != 1 || role[0].ID != first.ID {
		t.Errorf("of role = %v", role)
	}

	// Each reminder is recorded once.
	for i, want := range []bool{true, false} {
		if first, err := st.Delegations().Reminded(ctx, second.ID, true, at); err != nil || first != want {
			t.Fatalf("week reminder %d: %v %v", i, first, err)
		}
	}
	got, _, _ = st.Delegations().Get(ctx, second.ID)
	if !got.WeekReminded.Equal(at) || !got.DayReminded.IsZero() {
		t.Errorf("reminders: week %v day %v", got.WeekReminded, got.DayReminded)
	}
}

func TestDelegationHistory(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	since := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	d := newDelegation(t, st, "!a", "@ben:x", "negotiator", since)
	ratify := newMotion(t, st, "!a", []id.UserID{"@ben:x"})
	for _, e := range []DelegationEvent{
		{Delegation: d.ID, At: since, Kind: "elected", Motion: d.Motion},
		{Delegation: d.ID, At: since.Add(time.Hour), Kind: "report", User: "@ben:x", Text: "offered 2%"},
		{Delegation: d.ID, At: since.Add(2 * time.Hour), Kind: "ratification", Motion: ratify.ID, Outcome: "carried", Text: "accept"},
	} {
		if err := st.Delegations().AddEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	history, err := st.Delegations().History(ctx, d.ID)
	if err != nil || len(history) != 3 {
		t.Fatalf("history = %v, %v", history, err)
	}
	if h := history[0]; h.Kind != "elected" || h.MotionNumber != 1 || !h.At.Equal(since) {
		t.Errorf("first entry %+v", h)
	}
	if h := history[1]; h.Kind != "report" || h.User != "@ben:x" || h.Text != "offered 2%" || h.MotionNumber != 0 {
		t.Errorf("second entry %+v", h)
	}
	if h := history[2]; h.Outcome != "carried" || h.MotionNumber != ratify.Number || h.Text != "accept" {
		t.Errorf("third entry %+v", h)
	}
	if other, _ := st.Delegations().History(ctx, d.ID+1); len(other) != 0 {
		t.Errorf("another delegation's history: %v", other)
	}
}

func TestPendingMotion(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	create := func(room id.RoomID, kind, payload string, status MotionStatus) *Motion {
		m := &Motion{Room: room, Kind: kind, Payload: payload, Proposer: "@a:x", Text: "x", Threshold: "majority", Quorum: "0",
			Status: status, CreatedAt: time.Now()}
		if err := st.Motions().Create(ctx, m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	create("!a", "recall", `{"delegation_id": 7}`, "failed")
	awaiting := create("!a", "recall", `{"delegation_id": 7}`, MotionAwaitingSecond)
	create("!a", "recall", `{"delegation_id": 8}`, MotionOpen)
	create("!b", "recall", `{"delegation_id": 9}`, MotionOpen)
	election := create("!a", "election", `{"user_id": "@ben:x", "role": "negotiator"}`, MotionOpen)
	for _, tc := range []struct {
		room  id.RoomID
		kind  string
		match map[string]any
		want  int
	}{
		{"!a", "recall", map[string]any{"delegation_id": int64(7)}, awaiting.Number},
		{"!a", "recall", map[string]any{"delegation_id": int64(9)}, 0},
		{"!b", "recall", map[string]any{"delegation_id": int64(9)}, 1},
		{"!a", "election", map[string]any{"delegation_id": int64(7)}, 0},
		{"!a", "election", map[string]any{"user_id": id.UserID("@ben:x"), "role": "negotiator"}, election.Number},
		{"!a", "election", map[string]any{"user_id": id.UserID("@ben:x"), "role": "treasurer"}, 0},
		{"!a", "election", map[string]any{"user_id": id.UserID("@ana:x"), "role": "negotiator"}, 0},
	} {
		got, err := st.Delegations().PendingMotion(ctx, tc.room, tc.kind, tc.match)
		if err != nil || got != tc.want {
			t.Errorf("%s %s %v: %d, %v; want %d", tc.room, tc.kind, tc.match, got, err, tc.want)
		}
	}
}
