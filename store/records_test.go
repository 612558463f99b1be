package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/record"
)

// TestRecordsBoundToRoom: a room's first entry links to the room's genesis,
// so two rooms with the same decisions get different chains; a chain begun
// before that rule (entry 1 with an empty prev, as older databases hold)
// keeps growing from its own head and still verifies.
func TestRecordsBoundToRoom(t *testing.T) {
	ctx := context.Background()
	st := open(t)
	at := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	const a, b, old = id.RoomID("!a:x"), id.RoomID("!b:x"), id.RoomID("!old:x")

	// A room whose chain an older version began.
	legacy, err := record.Start(string(old), "motion.result", map[string]any{"id": 1}, at)
	if err != nil {
		t.Fatal(err)
	}
	legacy.Prev = ""
	legacy.Hash = legacy.ComputeHash()
	if _, err := st.DB.Exec(ctx, `INSERT INTO record_entries (room_id, seq, time, kind, content, prev, hash) VALUES ($1, 1, $2, $3, $4, '', $5)`,
		old, legacy.Time.Unix(), legacy.Kind, string(legacy.Content), legacy.Hash); err != nil {
		t.Fatal(err)
	}

	for _, room := range []id.RoomID{a, b, old} {
		for i := range 2 {
			if _, err := st.Records().Append(ctx, room, "motion.result", map[string]any{"id": i + 1}, at); err != nil {
				t.Fatal(err)
			}
		}
	}
	chain := map[id.RoomID][]record.Entry{}
	for _, room := range []id.RoomID{a, b, old} {
		if chain[room], err = st.Records().Between(ctx, room, at, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := record.VerifyRoom(string(room), chain[room]); err != nil {
			t.Errorf("room %s: %v", room, err)
		}
	}
	if len(chain[a]) != 2 || len(chain[old]) != 3 {
		t.Fatalf("entries: %d in %s, %d in %s", len(chain[a]), a, len(chain[old]), old)
	}
	if chain[a][0].Prev != record.Genesis(string(a)) || chain[a][0].Hash == chain[b][0].Hash {
		t.Errorf("first entries: %s prev %s hash %s, %s hash %s: want the room's genesis and different hashes",
			a, chain[a][0].Prev, chain[a][0].Hash, b, chain[b][0].Hash)
	}
	if chain[old][0].Prev != "" || chain[old][1].Prev != legacy.Hash {
		t.Errorf("the older chain was not continued from its own head: %+v", chain[old][:2])
	}
	if err := record.VerifyRoom(string(b), chain[a]); err == nil {
		t.Errorf("room %s's chain verifies as room %s's", a, b)
	}
}
