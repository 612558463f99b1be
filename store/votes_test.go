package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// TestVoteActs: an act reads back as cast; a redelivered event changes
// nothing; withdrawing an unknown event or the same act twice changes
// nothing; acts move only their own motion's counters.
func TestVoteActs(t *testing.T) {
	st, ctx := open(t), context.Background()
	m := newMotion(t, st, "!r", []id.UserID{"@a:x", "@b:x"})
	other := newMotion(t, st, "!r", []id.UserID{"@a:x"})
	at := time.UnixMilli(1_800_000_000_000)
	tally := func(motion int64) [3]int {
		t.Helper()
		got, _, err := st.Motions().Get(ctx, motion)
		if err != nil {
			t.Fatal(err)
		}
		y, n, a, err := st.Votes().Recount(ctx, motion)
		if err != nil || [3]int{y, n, a} != [3]int{got.Yes, got.No, got.Abstain} {
			t.Fatalf("motion %d: counters %d/%d/%d, recount %d/%d/%d (%v)", motion, got.Yes, got.No, got.Abstain, y, n, a, err)
		}
		return [3]int{y, n, a}
	}
	if got := tally(m.ID); got != [3]int{} {
		t.Errorf("a new motion's tally %v", got)
	}
	cast := func(a Act, want bool) {
		t.Helper()
		if fresh, err := st.Votes().Cast(ctx, a); err != nil || fresh != want {
			t.Fatalf("cast %+v: %v %v; want %v", a, fresh, err, want)
		}
	}
	cast(Act{Motion: m.ID, Voter: "@a:x", Choice: "no", Event: "$1", Time: at}, true)
	cast(Act{Motion: m.ID, Voter: "@b:x", Choice: "abstain", Event: "$2", Time: at}, true)
	cast(Act{Motion: m.ID, Voter: "@a:x", Choice: "yes", Event: "$1", Time: at.Add(time.Hour)}, false) // redelivered
	cast(Act{Motion: other.ID, Voter: "@a:x", Choice: "yes", Event: "$3", Time: at}, true)
	if got := tally(m.ID); got != [3]int{0, 1, 1} {
		t.Errorf("tally %v, want 0/1/1", got)
	}
	if got := tally(other.ID); got != [3]int{1, 0, 0} {
		t.Errorf("other motion %v, want 1/0/0", got)
	}

	a, ok, err := st.Votes().Act(ctx, "$1")
	if err != nil || !ok || a.Motion != m.ID || a.Voter != "@a:x" || a.Choice != "no" || a.Event != "$1" || !a.Time.Equal(at) {
		t.Errorf("act = %+v, %v, %v", a, ok, err)
	}
	if _, ok, err := st.Votes().Act(ctx, "$nothing"); ok || err != nil {
		t.Errorf("an event that was no act: %v %v", ok, err)
	}

	for _, evt := range []id.EventID{"$nothing", "$1", "$1"} {
		if err := st.Votes().Withdraw(ctx, evt); err != nil {
			t.Fatal(err)
		}
	}
	if got := tally(m.ID); got != [3]int{0, 0, 1} {
		t.Errorf("after withdrawing $1 (twice) and an unknown event: %v, want 0/0/1", got)
	}
	if _, ok, _ := st.Votes().Act(ctx, "$1"); !ok {
		t.Error("a withdrawn act is forgotten; it must stay, marked withdrawn, so that a redelivery is not counted")
	}
	cast(Act{Motion: m.ID, Voter: "@a:x", Choice: "yes", Event: "$1", Time: at}, false)
	if got := tally(m.ID); got != [3]int{0, 0, 1} {
		t.Errorf("a redelivered withdrawn act counted: %v", got)
	}
}

// TestLateActIsNotTheVote: an act that arrives late (an older timestamp, as
// in a catch-up) does not replace a later vote; equal timestamps are
// ordered by arrival.
func TestLateActIsNotTheVote(t *testing.T) {
	st, ctx := open(t), context.Background()
	m := newMotion(t, st, "!r", []id.UserID{"@a:x"})
	at := time.UnixMilli(1_800_000_000_000)
	for i, a := range []Act{
		{Motion: m.ID, Voter: "@a:x", Choice: "yes", Event: "$later", Time: at.Add(time.Minute)},
		{Motion: m.ID, Voter: "@a:x", Choice: "no", Event: "$earlier", Time: at},
		{Motion: m.ID, Voter: "@a:x", Choice: "abstain", Event: "$same", Time: at.Add(time.Minute)},
	} {
		if _, err := st.Votes().Cast(ctx, a); err != nil {
			t.Fatalf("act %d: %v", i, err)
		}
	}
	got, _, _ := st.Motions().Get(ctx, m.ID)
	if got.Yes != 0 || got.No != 0 || got.Abstain != 1 {
		t.Errorf("tally %d/%d/%d, want the abstention (same time as yes, arrived after it)", got.Yes, got.No, got.Abstain)
	}
	if err := st.Votes().Withdraw(ctx, "$same"); err != nil {
		t.Fatal(err)
	}
	got, _, _ = st.Motions().Get(ctx, m.ID)
	if got.Yes != 1 || got.No != 0 || got.Abstain != 0 {
		t.Errorf("after withdrawing it: %d/%d/%d, want the yes back", got.Yes, got.No, got.Abstain)
	}
}

// TestVotesLatest: the latest act that stands on a motion, its withdrawn
// acts and other motions' left out; zero with none.
func TestVotesLatest(t *testing.T) {
	st, ctx := open(t), context.Background()
	m := newMotion(t, st, "!r", []id.UserID{"@a:x", "@b:x"})
	other := newMotion(t, st, "!r", []id.UserID{"@a:x"})
	at := time.UnixMilli(1_800_000_000_000)
	latest := func() time.Time {
		t.Helper()
		got, err := st.Votes().Latest(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := latest(); !got.IsZero() {
		t.Errorf("no acts: %s", got)
	}
	for _, a := range []Act{
		{Motion: m.ID, Voter: "@a:x", Choice: "yes", Event: "$1", Time: at.Add(time.Minute)},
		{Motion: m.ID, Voter: "@b:x", Choice: "no", Event: "$2", Time: at}, // late
		{Motion: m.ID, Voter: "@b:x", Choice: "abstain", Event: "$3", Time: at.Add(2 * time.Minute)},
		{Motion: other.ID, Voter: "@a:x", Choice: "yes", Event: "$4", Time: at.Add(time.Hour)},
	} {
		if _, err := st.Votes().Cast(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if got := latest(); !got.Equal(at.Add(2 * time.Minute)) {
		t.Errorf("latest %s", got)
	}
	if err := st.Votes().Withdraw(ctx, "$3"); err != nil {
		t.Fatal(err)
	}
	if got := latest(); !got.Equal(at.Add(time.Minute)) {
		t.Errorf("latest after a withdrawal %s", got)
	}
}
