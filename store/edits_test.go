package store

import (
	"context"
	"testing"
	"time"
)

// TestEditsQueue: a burst of changes makes one edit; an edit comes no
// sooner than the least gap after the last; the earliest request wins.
func TestEditsQueue(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	t0 := time.UnixMilli(1_800_000_000_000)
	next := func() time.Time {
		t.Helper()
		at, err := st.Edits().Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	due := func(now time.Time) []Edit {
		t.Helper()
		list, err := st.Edits().Due(ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	if !next().IsZero() || len(due(t0)) != 0 {
		t.Fatal("an empty queue has an edit due")
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// Never edited: due at once.
	must(st.Edits().Schedule(ctx, "motion", 1, t0, 3*time.Second))
	must(st.Edits().Schedule(ctx, "motion", 1, t0.Add(time.Second), 3*time.Second)) // a burst: still one, at t0
	if got := next(); !got.Equal(t0) {
		t.Fatalf("next = %v, want %v", got, t0)
	}
	if list := due(t0.Add(-time.Millisecond)); len(list) != 0 {
		t.Fatalf("due before its time: %v", list)
	}
	if list := due(t0); len(list) != 1 || list[0] != (Edit{"motion", 1}) {
		t.Fatalf("due at t0 = %v", list)
	}
	must(st.Edits().Done(ctx, "motion", 1, t0))
	if !next().IsZero() {
		t.Fatal("an edit done is still due")
	}
	// Edited at t0: the next comes no sooner than t0+3s.
	must(st.Edits().Schedule(ctx, "motion", 1, t0.Add(time.Second), 3*time.Second))
	if got := next(); !got.Equal(t0.Add(3 * time.Second)) {
		t.Fatalf("after an edit, next = %v, want t0+3s", got)
	}
	// A later request does not push it back; an earlier one (with no gap)
	// brings it forward.
	must(st.Edits().Schedule(ctx, "session", 7, t0.Add(time.Minute), 0))
	must(st.Edits().Schedule(ctx, "session", 7, t0.Add(2*time.Second), 0))
	if list := due(t0.Add(2 * time.Second)); len(list) != 1 || list[0] != (Edit{"session", 7}) {
		t.Fatalf("due at t0+2s = %v, want session 7", list)
	}
	if list := due(t0.Add(3 * time.Second)); len(list) != 2 || list[0] != (Edit{"session", 7}) || list[1] != (Edit{"motion", 1}) {
		t.Fatalf("due at t0+3s = %v, want session 7 then motion 1", list)
	}
	must(st.Edits().Cancel(ctx, "session", 7))
	if list := due(t0.Add(time.Hour)); len(list) != 1 || list[0].Kind != "motion" {
		t.Fatalf("after cancel, due = %v", list)
	}
}
