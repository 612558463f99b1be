package store

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// TestOutboxOrderAndDMs: entries come out oldest first, at most limit of
// them, with what they were queued with (a DM has no room yet), and every
// failed attempt is counted.
func TestOutboxOrderAndDMs(t *testing.T) {
	st, ctx := open(t), context.Background()
	now := time.UnixMilli(1_800_000_000_000)
	dm, err := st.Outbox().Add(ctx, Outgoing{DMUser: "@ana:x", Kind: "dm", Payload: json.RawMessage(`{"body":"hi"}`)}, now)
	if err != nil {
		t.Fatal(err)
	}
	second, err := st.Outbox().Add(ctx, Outgoing{Room: "!r", Kind: "message", Payload: json.RawMessage(`{}`)}, now)
	if err != nil || second <= dm {
		t.Fatalf("IDs %d then %d, %v", dm, second, err)
	}
	list, err := st.Outbox().Pending(ctx, 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("pending(1) = %v, %v", list, err)
	}
	if o := list[0]; o.ID != dm || o.Room != "" || o.DMUser != "@ana:x" || o.Kind != "dm" || string(o.Payload) != `{"body":"hi"}` || o.Attempts != 0 {
		t.Errorf("first entry %+v", o)
	}
	for range 2 {
		if err := st.Outbox().Failed(ctx, dm, "503"); err != nil {
			t.Fatal(err)
		}
	}
	if o, ok, err := st.Outbox().Get(ctx, dm); !ok || err != nil || o.Attempts != 2 {
		t.Errorf("after two failures: %+v %v %v", o, ok, err)
	}
	if o, _, _ := st.Outbox().Get(ctx, second); o.Attempts != 0 {
		t.Errorf("another entry's attempts: %d", o.Attempts)
	}
}

// TestHandledPruneCutoff: events handled before the cutoff are forgotten,
// one handled at the cutoff is kept.
func TestHandledPruneCutoff(t *testing.T) {
	st, ctx := open(t), context.Background()
	cutoff := time.UnixMilli(1_800_000_000_000)
	for evt, at := range map[string]time.Time{"$old": cutoff.Add(-time.Millisecond), "$at": cutoff, "$new": cutoff.Add(time.Hour)} {
		if fresh, err := st.Handled().Mark(ctx, id.EventID(evt), "!r", at); !fresh || err != nil {
			t.Fatalf("mark %s: %v %v", evt, fresh, err)
		}
	}
	if n, err := st.Handled().Prune(ctx, cutoff); n != 1 || err != nil {
		t.Errorf("pruned %d, %v; want 1", n, err)
	}
	for evt, kept := range map[string]bool{"$old": false, "$at": true, "$new": true} {
		fresh, err := st.Handled().Mark(ctx, id.EventID(evt), "!r", cutoff)
		if err != nil || fresh == kept {
			t.Errorf("%s: new again = %v (%v), want %v", evt, fresh, err, !kept)
		}
	}
}

// TestRecordPeriods: a room's chain is empty until its first entry; a
// period includes its start and excludes its end; times are whole seconds.
func TestRecordPeriods(t *testing.T) {
	st, ctx := open(t), context.Background()
	if head, err := st.Records().Head(ctx, "!r"); head != nil || err != nil {
		t.Errorf("head of an empty chain = %+v, %v", head, err)
	}
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var last time.Time
	for i, at := range []time.Time{start.Add(-time.Second), start, start.Add(time.Hour + 500*time.Millisecond), start.Add(2 * time.Hour)} {
		e, err := st.Records().Append(ctx, "!r", "motion.result", map[string]int{"n": i}, at)
		if err != nil {
			t.Fatal(err)
		}
		last = e.Time
	}
	head, err := st.Records().Head(ctx, "!r")
	if err != nil || head.Seq != 4 || !head.Time.Equal(last) || head.Kind != "motion.result" || string(head.Content) != `{"n":3}` {
		t.Errorf("head = %+v, %v", head, err)
	}
	got, err := st.Records().Between(ctx, "!r", start, start.Add(2*time.Hour))
	if err != nil || len(got) != 2 || got[0].Seq != 2 || got[1].Seq != 3 {
		t.Fatalf("entries in [start, start+2h) = %+v, %v; want seq 2 and 3", got, err)
	}
	if !got[1].Time.Equal(start.Add(time.Hour)) || got[1].Time.Location() != time.UTC {
		t.Errorf("time read back %v, want %v in UTC", got[1].Time, start.Add(time.Hour))
	}
	if got[1].Prev != got[0].Hash || got[1].Hash != got[1].ComputeHash() {
		t.Errorf("the entries read back do not chain: %+v", got)
	}
}
