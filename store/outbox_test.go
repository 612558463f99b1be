package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
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

// TestOutboxDestinations: entries are grouped by destination (a room, or a
// member's direct messages), the destination with the oldest entry first,
// each giving its oldest entry; an entry readdressed to a member's direct
// messages joins that destination in its place; QueuedBefore looks at the
// destinations it is given only.
func TestOutboxDestinations(t *testing.T) {
	st, ctx := open(t), context.Background()
	now := time.UnixMilli(1_800_000_000_000)
	add := func(room id.RoomID, user id.UserID, body string) int64 {
		t.Helper()
		outID, err := st.Outbox().Add(ctx, Outgoing{Room: room, DMUser: user, Kind: "message", Payload: json.RawMessage(`"` + body + `"`)}, now)
		if err != nil {
			t.Fatal(err)
		}
		return outID
	}
	stuck := add("!stuck", "", "s1")
	for range 150 {
		add("!stuck", "", "s")
	}
	dm := add("", "@ana:x", "d1")
	inDM := add("!dm", "", "r1")
	works := add("!works", "", "w1")
	add("!works", "", "w2")

	dests, err := st.Outbox().Destinations(ctx)
	want := []Destination{{Room: "!stuck"}, {DMUser: "@ana:x"}, {Room: "!dm"}, {Room: "!works"}}
	if err != nil || len(dests) != len(want) {
		t.Fatalf("destinations %v, %v; want %v", dests, err, want)
	}
	for i := range want {
		if dests[i] != want[i] {
			t.Errorf("destination %d is %v, want %v", i, dests[i], want[i])
		}
	}
	for d, first := range map[Destination]int64{{Room: "!stuck"}: stuck, {DMUser: "@ana:x"}: dm, {Room: "!works"}: works} {
		o, ok, err := st.Outbox().Next(ctx, d)
		if err != nil || !ok || o.ID != first || o.Destination() != d || !o.Queued.Equal(now) {
			t.Errorf("next for %v: %+v %v %v, want entry %d", d, o, ok, err, first)
		}
	}
	if _, ok, err := st.Outbox().Next(ctx, Destination{Room: "!none"}); ok || err != nil {
		t.Errorf("next for an empty destination: %v %v", ok, err)
	}

	// The direct room's entry goes to the member's direct messages.
	if err := st.Outbox().Readdress(ctx, inDM, "@ana:x", json.RawMessage(`"moved"`)); err != nil {
		t.Fatal(err)
	}
	if list, err := st.Outbox().ForRoom(ctx, "!dm"); err != nil || len(list) != 0 {
		t.Errorf("left for the old direct room: %d, %v", len(list), err)
	}
	if err := st.Outbox().Done(ctx, dm); err != nil {
		t.Fatal(err)
	}
	o, ok, err := st.Outbox().Next(ctx, Destination{DMUser: "@ana:x"})
	if err != nil || !ok || o.ID != inDM || o.Room != "" || string(o.Payload) != `"moved"` {
		t.Errorf("next for ana after the move: %+v %v %v", o, ok, err)
	}

	for _, tc := range []struct {
		entry int64
		dests []Destination
		want  bool
	}{
		{works, []Destination{{Room: "!works"}}, false},
		{works + 1, []Destination{{Room: "!works"}}, true},
		{works + 1, []Destination{{DMUser: "@ana:x"}}, true},
		{inDM, []Destination{{DMUser: "@ana:x"}}, false},
		{inDM, []Destination{{DMUser: "@ana:x"}, {Room: "!stuck"}}, true},
		{works + 1, nil, false},
	} {
		if before, err := st.Outbox().QueuedBefore(ctx, tc.entry, tc.dests...); err != nil || before != tc.want {
			t.Errorf("queued before %d in %v: %v %v, want %v", tc.entry, tc.dests, before, err, tc.want)
		}
	}
}

// TestDMPending: a creation begun is remembered until the room is recorded;
// a room replaced leaves the member owed an explanation, which outlives the
// next creation until it was given.
func TestDMPending(t *testing.T) {
	st, ctx := open(t), context.Background()
	dms := st.DMs()
	check := func(what string, wantToken string, wantExplain DMReplaced) {
		t.Helper()
		token, explain, err := dms.Pending(ctx, "@ana:x")
		if err != nil || token != wantToken || explain != wantExplain {
			t.Errorf("%s: pending %q %v (%v), want %q %v", what, token, explain, err, wantToken, wantExplain)
		}
	}
	check("at first", "", DMNotReplaced)
	if err := dms.Creating(ctx, "@ana:x", "T1"); err != nil {
		t.Fatal(err)
	}
	check("creating", "T1", DMNotReplaced)
	if err := dms.Created(ctx, "@ana:x", "!one"); err != nil {
		t.Fatal(err)
	}
	check("created", "", DMNotReplaced)
	if room, ok, _ := dms.Room(ctx, "@ana:x"); !ok || room != "!one" {
		t.Errorf("room %s %v", room, ok)
	}
	if err := dms.Replaced(ctx, "@ana:x", "!one", DMMoved); err != nil {
		t.Fatal(err)
	}
	check("replaced", "", DMMoved)
	if _, ok, _ := dms.Room(ctx, "@ana:x"); ok {
		t.Error("the replaced room is still the direct room")
	}
	if err := dms.Creating(ctx, "@ana:x", "T2"); err != nil {
		t.Fatal(err)
	}
	check("creating again", "T2", DMMoved)
	if err := dms.Created(ctx, "@ana:x", "!two"); err != nil {
		t.Fatal(err)
	}
	check("created again", "", DMMoved)
	if err := dms.Replaced(ctx, "@ana:x", "!none", DMIntruded); err != nil {
		t.Fatal(err)
	}
	check("replaced again before told", "", DMIntruded)
	if err := dms.Explained(ctx, "@ana:x"); err != nil {
		t.Fatal(err)
	}
	check("explained", "", DMNotReplaced)
	rooms, err := dms.Rooms(ctx)
	if err != nil || len(rooms) != 1 || !rooms["!two"] {
		t.Errorf("rooms %v %v", rooms, err)
	}
}

// TestUnkeptOutbox: an unkept entry's payload opens in the run that queued
// it only; a later run, with the same files and seal key, reads its
// fallback instead, marked lost. Kept entries are untouched, and an unkept
// one readdressed stays unkept. Entries for one member, and unkept ones,
// keep when they were queued to the hour only.
func TestUnkeptOutbox(t *testing.T) {
	st, path := openAt(t)
	ctx := context.Background()
	now := time.Now()
	add := func(st *Store, out Outgoing) int64 {
		t.Helper()
		id, err := st.Outbox().Add(ctx, out, now)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	receipt := add(st, Outgoing{DMUser: "@a:x", Kind: "message", Payload: json.RawMessage(`"code K3P7"`), Fallback: json.RawMessage(`"lost"`)})
	kept := add(st, Outgoing{DMUser: "@b:x", Kind: "message", Payload: json.RawMessage(`"kept"`)})
	moved := add(st, Outgoing{Room: "!r", Kind: "message", Payload: json.RawMessage(`"reply"`), Fallback: json.RawMessage(`"reply lost"`)})
	if err := st.Outbox().Readdress(ctx, moved, "@c:x", json.RawMessage(`"reply, moved"`)); err != nil {
		t.Fatal(err)
	}
	read := func(st *Store) map[int64]string {
		t.Helper()
		list, err := st.Outbox().Pending(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		out := map[int64]string{}
		for _, o := range list {
			out[o.ID] = fmt.Sprintf("%s lost=%t", o.Payload, o.Lost)
		}
		return out
	}
	list, err := st.Outbox().Pending(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list {
		if !o.Queued.Equal(now.Truncate(time.Hour)) {
			t.Errorf("entry %d (for %q) was queued at %s, want %s: its time to the hour", o.ID, o.DMUser, o.Queued, now.Truncate(time.Hour))
		}
	}
	want := map[int64]string{receipt: `"code K3P7" lost=false`, kept: `"kept" lost=false`, moved: `"reply, moved" lost=false`}
	if got := read(st); !maps.Equal(got, want) {
		t.Fatalf("in the run that queued them: %v, want %v", got, want)
	}
	if unkept, err := st.Outbox().Unkept(ctx); err != nil || !unkept {
		t.Errorf("Unkept = %t (%v) with two unkept entries queued, want true", unkept, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	want = map[int64]string{receipt: `"lost" lost=true`, kept: `"kept" lost=false`, moved: `"reply lost" lost=true`}
	if got := read(again); !maps.Equal(got, want) {
		t.Fatalf("in the next run: %v, want %v", got, want)
	}
	if unkept, err := again.Outbox().Unkept(ctx); err != nil || unkept {
		t.Errorf("Unkept = %t (%v) in the next run, want false: the entries of the run before are lost already", unkept, err)
	}
	next := add(again, Outgoing{DMUser: "@d:x", Kind: "message", Payload: json.RawMessage(`"code M4T8"`), Fallback: json.RawMessage(`"lost"`)})
	if unkept, err := again.Outbox().Unkept(ctx); err != nil || !unkept {
		t.Errorf("Unkept = %t (%v) with an entry of this run queued, want true", unkept, err)
	}
	if err := again.Outbox().Done(ctx, next); err != nil {
		t.Fatal(err)
	}
	if unkept, err := again.Outbox().Unkept(ctx); err != nil || unkept {
		t.Errorf("Unkept = %t (%v) once it was sent, want false", unkept, err)
	}
}
