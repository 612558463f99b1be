package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// TestSeats: a branch seats a member once; an unseat must name the
// delegation; the invitation of a seat passes to the member's other seats.
func TestSeats(t *testing.T) {
	st, ctx := open(t), context.Background()
	at := time.UnixMilli(1_800_000_000_000)
	if err := st.Federation().SetCouncil(ctx, Council{Room: "!c", Name: "C", Rule: "branches", CreatedBy: "@ana:x", CreatedAt: at}); err != nil {
		t.Fatal(err)
	}
	seat := func(branch string, delegation int, invited bool) bool {
		t.Helper()
		fresh, err := st.Federation().Seat(ctx, Seat{Council: "!c", Branch: id.RoomID("!" + branch), User: "@dana:x", Bot: id.UserID("@bot:" + branch),
			Delegation: delegation, Invited: invited, Since: at})
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	if !seat("a", 1, true) || seat("a", 1, true) || !seat("b", 4, false) {
		t.Fatal("a seat was not taken once")
	}
	if _, ok, err := st.Federation().Unseat(ctx, "!c", "!a", "@dana:x", 2); ok || err != nil {
		t.Errorf("an unseat of another delegation: %v %v", ok, err)
	}
	s, ok, err := st.Federation().Unseat(ctx, "!c", "!a", "@dana:x", 1)
	if !ok || err != nil || !s.Invited || s.Bot != "@bot:a" {
		t.Fatalf("unseat = %+v %v %v", s, ok, err)
	}
	left, err := st.Federation().SeatsOf(ctx, "!c", "@dana:x")
	if err != nil || len(left) != 1 || left[0].Branch != "!b" || !left[0].Invited {
		t.Errorf("seats left = %+v %v; want b's, invited", left, err)
	}
	if all, err := st.Federation().Seats(ctx, "!c"); err != nil || len(all) != 1 {
		t.Errorf("Seats = %+v %v", all, err)
	}
}
