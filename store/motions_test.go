package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// TestMotionRoundTrip: every field written by Create, Open and Close reads
// back as written, and zero times stay zero (not 1970, not year 1 in ms).
func TestMotionRoundTrip(t *testing.T) {
	st, ctx := open(t), context.Background()
	created := time.UnixMilli(1_800_000_000_123)
	m := &Motion{Room: "!r", Kind: "election", Payload: `{"role":"chair"}`, Proposer: "@ana:x", Text: "Elect ben",
		Threshold: "2/3", Quorum: "50%", QuorumCount: 3, Secret: true, Status: MotionAwaitingSecond,
		CreatedAt: created, Duration: 90 * time.Minute}
	if err := st.Motions().Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, ok, err := st.Motions().Get(ctx, m.ID)
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	if got.Room != "!r" || got.Number != 1 || got.Kind != "election" || got.Payload != `{"role":"chair"}` ||
		got.Proposer != "@ana:x" || got.Text != "Elect ben" || got.Threshold != "2/3" || got.Quorum != "50%" ||
		got.QuorumCount != 3 || !got.Secret || got.Status != MotionAwaitingSecond || got.Seconder != "" ||
		!got.CreatedAt.Equal(created) || got.Duration != 90*time.Minute {
		t.Errorf("read back %+v", got)
	}
	for name, zero := range map[string]time.Time{"opened": got.OpenedAt, "closes": got.ClosesAt, "closed": got.ClosedAt} {
		if !zero.IsZero() {
			t.Errorf("%s at %v, want zero", name, zero)
		}
	}

	m.Seconder, m.OpenedAt, m.ClosesAt, m.QuorumCount = "@ben:x", created.Add(time.Minute), created.Add(time.Hour), 2
	if err := st.Motions().Open(ctx, m, []id.UserID{"@ana:x", "@ben:x", "@ana:x"}); err != nil {
		t.Fatal(err)
	}
	if m.Status != MotionOpen {
		t.Errorf("Open left the status %q on the motion", m.Status)
	}
	got, _, _ = st.Motions().ByNumber(ctx, "!r", 1)
	if got.ID != m.ID || got.Status != MotionOpen || got.Seconder != "@ben:x" || !got.OpenedAt.Equal(m.OpenedAt) ||
		!got.ClosesAt.Equal(m.ClosesAt) || got.QuorumCount != 2 {
		t.Errorf("after Open: %+v", got)
	}
	if n, err := st.Motions().ElectorateSize(ctx, m.ID); err != nil || n != 2 {
		t.Errorf("electorate of %d (%v), want 2: a member listed twice counts once", n, err)
	}

	closed := created.Add(2 * time.Hour)
	if err := st.Motions().Close(ctx, m.ID, "carried", closed, 5, 2, 1); err != nil {
		t.Fatal(err)
	}
	if err := st.Motions().SetPayload(ctx, m.ID, `{"role":"treasurer"}`); err != nil {
		t.Fatal(err)
	}
	got, _, _ = st.Motions().Get(ctx, m.ID)
	if got.Status != "carried" || !got.ClosedAt.Equal(closed) || got.Yes != 5 || got.No != 2 || got.Abstain != 1 ||
		got.Payload != `{"role":"treasurer"}` {
		t.Errorf("after Close: %+v", got)
	}
	if _, ok, err := st.Motions().Get(ctx, m.ID+1); ok || err != nil {
		t.Errorf("a motion that does not exist: %v %v", ok, err)
	}
	if _, ok, err := st.Motions().ByNumber(ctx, "!other", 1); ok || err != nil {
		t.Errorf("motion #1 of a room without motions: %v %v", ok, err)
	}
}

// TestMotionNumbersPerRoom: each room numbers its motions 1, 2, 3...
func TestMotionNumbersPerRoom(t *testing.T) {
	st := open(t)
	var got []int
	for _, room := range []id.RoomID{"!a", "!a", "!b", "!a"} {
		got = append(got, newMotion(t, st, room, []id.UserID{"@a:x"}).Number)
	}
	if got[0] != 1 || got[1] != 2 || got[2] != 1 || got[3] != 3 {
		t.Errorf("numbers %v, want [1 2 1 3]", got)
	}
}

// TestDueToCloseAtTheDeadline: a motion is due to close at exactly its
// deadline, not a millisecond later, because the scheduler wakes at
// NextClose and must find it then (a vote at that very instant still counts:
// the rules refuse only votes after the deadline). Motions that are not open
// are never due, and the list is in deadline order.
func TestDueToCloseAtTheDeadline(t *testing.T) {
	st, ctx := open(t), context.Background()
	deadline := time.UnixMilli(1_800_000_000_000)
	withDeadline := func(closes time.Time) *Motion {
		m := newMotion(t, st, "!r", []id.UserID{"@a:x"})
		if _, err := st.DB.Exec(ctx, "UPDATE motions SET closes_at=$2 WHERE id=$1", m.ID, closes.UnixMilli()); err != nil {
			t.Fatal(err)
		}
		return m
	}
	later := withDeadline(deadline.Add(time.Second))
	first := withDeadline(deadline)
	same := withDeadline(deadline) // the same deadline: by ID
	closed := withDeadline(deadline.Add(-time.Hour))
	if err := st.Motions().Close(ctx, closed.ID, "failed", deadline.Add(-time.Hour), 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	awaiting := &Motion{Room: "!r", Proposer: "@a:x", Text: "x", Threshold: "majority", Quorum: "0",
		Status: MotionAwaitingSecond, CreatedAt: deadline.Add(-time.Hour), ClosesAt: deadline.Add(-time.Minute)}
	if err := st.Motions().Create(ctx, awaiting); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		now  time.Time
		want []int64
	}{
		{deadline.Add(-time.Millisecond), nil},
		{deadline, []int64{first.ID, same.ID}},
		{deadline.Add(time.Second - time.Millisecond), []int64{first.ID, same.ID}},
		{deadline.Add(time.Second), []int64{first.ID, same.ID, later.ID}},
	} {
		due, err := st.Motions().DueToClose(ctx, tc.now)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, m := range due {
			ids = append(ids, m.ID)
		}
		if !equalIDs(ids, tc.want) {
			t.Errorf("due at deadline%+v: motions %v, want %v", tc.now.Sub(deadline), ids, tc.want)
		}
	}
	if next, err := st.Motions().NextClose(ctx); err != nil || !next.Equal(deadline) {
		t.Errorf("NextClose = %v, %v; want the earliest open deadline %v (not the closed or awaiting ones)", next, err, deadline)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestNoScheduleIsZero: with nothing open, the next close is the zero time
// (no wake-up), not 1970.
func TestNoScheduleIsZero(t *testing.T) {
	st, ctx := open(t), context.Background()
	if next, err := st.Motions().NextClose(ctx); err != nil || !next.IsZero() {
		t.Errorf("NextClose = %v, %v", next, err)
	}
}

// TestElectorate: only the members recorded when the motion opened may vote.
func TestElectorate(t *testing.T) {
	st, ctx := open(t), context.Background()
	m := newMotion(t, st, "!r", []id.UserID{"@a:x", "@b:x"})
	other := newMotion(t, st, "!r", []id.UserID{"@c:x"})
	for _, tc := range []struct {
		motion int64
		user   id.UserID
		want   bool
	}{{m.ID, "@a:x", true}, {m.ID, "@b:x", true}, {m.ID, "@c:x", false}, {other.ID, "@a:x", false}, {other.ID, "@c:x", true}} {
		if in, err := st.Motions().InElectorate(ctx, tc.motion, tc.user); err != nil || in != tc.want {
			t.Errorf("InElectorate(%d, %s) = %v, %v; want %v", tc.motion, tc.user, in, err, tc.want)
		}
	}
	if n, err := st.Motions().ElectorateSize(ctx, m.ID); err != nil || n != 2 {
		t.Errorf("ElectorateSize = %d, %v", n, err)
	}
}

// TestTellOnce: a member is told once per motion why a vote did not count.
func TestTellOnce(t *testing.T) {
	st, ctx := open(t), context.Background()
	m := newMotion(t, st, "!r", []id.UserID{"@a:x"})
	other := newMotion(t, st, "!r", []id.UserID{"@a:x"})
	for _, tc := range []struct {
		motion int64
		user   id.UserID
		want   bool
	}{{m.ID, "@z:x", true}, {m.ID, "@z:x", false}, {m.ID, "@y:x", true}, {other.ID, "@z:x", true}} {
		if first, err := st.Motions().TellOnce(ctx, tc.motion, tc.user); err != nil || first != tc.want {
			t.Errorf("TellOnce(%d, %s) = %v, %v; want %v", tc.motion, tc.user, first, err, tc.want)
		}
	}
}

// TestPendingMotions: open and awaiting motions of the room, by number.
func TestPendingMotions(t *testing.T) {
	st, ctx := open(t), context.Background()
	a := newMotion(t, st, "!r", []id.UserID{"@a:x"})
	closed := newMotion(t, st, "!r", []id.UserID{"@a:x"})
	if err := st.Motions().Close(ctx, closed.ID, "carried", time.Now(), 1, 0, 0); err != nil {
		t.Fatal(err)
	}
	newMotion(t, st, "!elsewhere", []id.UserID{"@a:x"})
	awaiting := &Motion{Room: "!r", Proposer: "@a:x", Text: "x", Threshold: "majority", Quorum: "0",
		Status: MotionAwaitingSecond, CreatedAt: time.Now()}
	if err := st.Motions().Create(ctx, awaiting); err != nil {
		t.Fatal(err)
	}
	list, err := st.Motions().Pending(ctx, "!r")
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != awaiting.ID {
		t.Errorf("pending = %v, %v; want #%d and #%d", list, err, a.Number, awaiting.Number)
	}
}
