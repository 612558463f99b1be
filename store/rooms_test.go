package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// TestRooms: joins are recorded and corrected, the unencrypted-room warning
// is given once, and the sync position is the last event recorded.
func TestRooms(t *testing.T) {
	st, ctx := open(t), context.Background()
	at := time.UnixMilli(1_800_000_000_000)
	if _, ok, err := st.Rooms().JoinedAt(ctx, "!r"); ok || err != nil {
		t.Errorf("an unknown room is joined: %v %v", ok, err)
	}
	for _, when := range []time.Time{at, at.Add(time.Hour), at.Add(-time.Minute)} { // the latest report stands
		if err := st.Rooms().Joined(ctx, "!r", when); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, err := st.Rooms().JoinedAt(ctx, "!r"); !ok || err != nil || !got.Equal(at.Add(-time.Minute)) {
		t.Errorf("JoinedAt = %v %v %v", got, ok, err)
	}

	if first, err := st.Rooms().MarkWarnedUnencrypted(ctx, "!r"); !first || err != nil {
		t.Errorf("first warning: %v %v", first, err)
	}
	if first, err := st.Rooms().MarkWarnedUnencrypted(ctx, "!r"); first || err != nil {
		t.Errorf("second warning: %v %v", first, err)
	}
	if first, _ := st.Rooms().MarkWarnedUnencrypted(ctx, "!unknown"); first {
		t.Error("a room the bot is not in was warned")
	}

	if got, err := st.Rooms().Position(ctx, "!r"); got != "" || err != nil {
		t.Errorf("Position before any event = %q, %v; want none", got, err)
	}
	if got, err := st.Rooms().Position(ctx, "!unknown"); got != "" || err != nil {
		t.Errorf("Position of an unknown room = %q, %v; want none", got, err)
	}
	for _, evt := range []id.EventID{"$a", "$b"} { // the latest processed stands, whatever its time
		if err := st.Rooms().SetPosition(ctx, "!r", evt); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := st.Rooms().Position(ctx, "!r"); got != "$b" || err != nil {
		t.Errorf("Position = %q, %v; want $b", got, err)
	}

	if err := st.Rooms().Left(ctx, "!r"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.Rooms().JoinedAt(ctx, "!r"); ok {
		t.Error("a room that was left is still joined")
	}
}

// TestDMs: one direct room per member, found both ways, replaced when a new
// one is made and forgotten when the member leaves it.
func TestDMs(t *testing.T) {
	st, ctx := open(t), context.Background()
	if _, ok, err := st.DMs().Room(ctx, "@ana:x"); ok || err != nil {
		t.Errorf("a DM before any: %v %v", ok, err)
	}
	if _, ok, err := st.DMs().User(ctx, "!dm1"); ok || err != nil {
		t.Errorf("a member of an unknown DM: %v %v", ok, err)
	}
	for _, set := range [][2]string{{"@ana:x", "!dm1"}, {"@ben:x", "!dm2"}, {"@ana:x", "!dm3"}} {
		if err := st.DMs().Set(ctx, id.UserID(set[0]), id.RoomID(set[1])); err != nil {
			t.Fatal(err)
		}
	}
	if room, ok, err := st.DMs().Room(ctx, "@ana:x"); room != "!dm3" || !ok || err != nil {
		t.Errorf("ana's DM = %s %v %v, want the newest", room, ok, err)
	}
	if user, ok, err := st.DMs().User(ctx, "!dm2"); user != "@ben:x" || !ok || err != nil {
		t.Errorf("!dm2 is with %s %v %v", user, ok, err)
	}
	if _, ok, _ := st.DMs().User(ctx, "!dm1"); ok {
		t.Error("the replaced DM is still known")
	}
	if err := st.Rooms().Joined(ctx, "!dm2", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.Exec(ctx, "UPDATE rooms SET last_event='$before' WHERE room_id='!dm2'"); err != nil { // recorded before the room was known as direct
		t.Fatal(err)
	}
	if err := st.Rooms().SetPosition(ctx, "!dm2", "$last"); err != nil {
		t.Fatal(err)
	}
	if err := st.Rooms().MarkPassedPrivate(ctx, "!dm2", "$last", time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.Rooms().Position(ctx, "!dm2"); got != "" {
		t.Errorf("a direct room keeps the position %q; want none (it would say when the member last wrote)", got)
	}
	if ok, err := st.Rooms().PassedPrivate(ctx, "$last"); !ok || err != nil {
		t.Errorf("a direct room's position was not kept: %v %v", ok, err)
	}
	if seen, _ := st.Handled().Seen(ctx, "$last"); seen {
		t.Error("a position is taken for a handled event: a command there would be skipped")
	}
	if ok, _ := st.Rooms().PassedPrivate(ctx, "$other"); ok {
		t.Error("an event never passed is a position")
	}
	if err := st.DMs().Set(ctx, "@chi:x", "!dm2"); err == nil {
		t.Error("one room was recorded as the DM of two members")
	}
	if err := st.DMs().Forget(ctx, "!dm3"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.DMs().Room(ctx, "@ana:x"); ok {
		t.Error("a forgotten DM is still used")
	}
	if room, ok, _ := st.DMs().Room(ctx, "@ben:x"); !ok || room != "!dm2" {
		t.Errorf("forgetting one DM touched another: %s %v", room, ok)
	}
}

// TestUsersAndMeta: preferences and bookkeeping values default to "" and
// are replaced, not duplicated.
func TestUsersAndMeta(t *testing.T) {
	st, ctx := open(t), context.Background()
	if tz, err := st.Users().Timezone(ctx, "@ana:x"); tz != "" || err != nil {
		t.Errorf("default zone %q, %v", tz, err)
	}
	for _, tz := range []string{"Europe/Berlin", "America/New_York"} {
		if err := st.Users().SetTimezone(ctx, "@ana:x", tz); err != nil {
			t.Fatal(err)
		}
	}
	if tz, err := st.Users().Timezone(ctx, "@ana:x"); tz != "America/New_York" || err != nil {
		t.Errorf("zone %q, %v", tz, err)
	}
	if tz, _ := st.Users().Timezone(ctx, "@ben:x"); tz != "" {
		t.Errorf("another member's zone %q", tz)
	}

	if v, err := st.Meta().Get(ctx, "sync_token"); v != "" || err != nil {
		t.Errorf("unset value %q, %v", v, err)
	}
	for _, v := range []string{"s1", "s2"} {
		if err := st.Meta().Set(ctx, "sync_token", v); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := st.Meta().Get(ctx, "sync_token"); v != "s2" || err != nil {
		t.Errorf("value %q, %v", v, err)
	}
	if v, _ := st.Meta().Get(ctx, "id"); v == "" || v != st.ID {
		t.Errorf("installation ID %q in meta, %q in the store", v, st.ID)
	}
}
