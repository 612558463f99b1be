package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// TestSecretRankings: a secret contested election's box takes one ranking
// per elector, under its receipt, once; the rankings come out as cast; the
// box is destroyed at the end.
func TestSecretRankings(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	now := time.Now()
	m := &Motion{Room: "!r", Kind: KindContested, Payload: "{}", Proposer: "@a:x", Text: "x", Threshold: "stv", Quorum: "-",
		Secret: true, Status: ElectionVoting, CreatedAt: now, ClosesAt: now.Add(time.Hour)}
	if err := st.Motions().Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	voters := []id.UserID{"@c:x", "@a:x", "@b:x"}
	if err := st.Elections().SetElectorate(ctx, m.ID, voters); err != nil {
		t.Fatal(err)
	}
	code, err := st.Secret().OpenRanked(ctx, m.ID, 3)
	if err != nil || len(code) != BallotCodeLen {
		t.Fatal(code, err)
	}
	if got, ok, _ := st.Secret().ByCode(ctx, code); !ok || got.ID != m.ID {
		t.Fatal("the ballot code does not find the election")
	}
	cast := func(voter id.UserID, ranking []int, receipt string) (bool, error) {
		var ok bool
		err := st.Tx(ctx, func(ctx context.Context) error {
			var err error
			ok, err = st.Secret().CastRanking(ctx, m.ID, voter, ranking, receipt)
			return err
		})
		return ok, err
	}
	if ok, err := cast("@a:x", []int{3, 1}, "AAAAAAAAAA"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := cast("@a:x", []int{2}, "BBBBBBBBBB"); ok || err != nil {
		t.Fatal("ranked twice", ok, err)
	}
	if _, err := cast("@z:x", []int{2}, "CCCCCCCCCC"); !errors.Is(err, ErrNotElector) {
		t.Fatal(err)
	}
	for _, bad := range [][]int{{}, {4}, {0}, {1, 2, 3, 1}, {2, 2}} {
		if _, err := cast("@b:x", bad, "DDDDDDDDDD"); err == nil {
			t.Fatalf("ranking %v cast", bad)
		}
	}
	if ok, err := cast("@c:x", []int{1, 2, 3}, "9999999999"); !ok || err != nil {
		t.Fatal(ok, err)
	}
	got, err := st.Secret().Rankings(ctx, m.ID)
	if err != nil || !reflect.DeepEqual(got, map[string][]int{"AAAAAAAAAA": {3, 1}, "9999999999": {1, 2, 3}}) {
		t.Fatalf("%v %v", got, err)
	}
	if fresh, _, _ := st.Motions().Get(ctx, m.ID); fresh.Turnout != 2 {
		t.Fatalf("turnout %d", fresh.Turnout)
	}
	if err := st.Secret().Destroy(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Secret().Rankings(ctx, m.ID); err == nil {
		t.Fatal("the box outlived the election")
	}
}

// TestOpenRankedLimits: a secret ranking opens for one candidate up to
// maxRanked (a ballot number is one byte), and not for none or more.
func TestOpenRankedLimits(t *testing.T) {
	st := open(t)
	ctx := context.Background()
	for _, tc := range []struct {
		candidates int
		ok         bool
	}{{0, false}, {1, true}, {maxRanked, true}, {maxRanked + 1, false}} {
		m := &Motion{Room: "!r", Kind: KindContested, Payload: "{}", Proposer: "@a:x", Text: "x", Threshold: "stv", Quorum: "-",
			Secret: true, Status: ElectionVoting, CreatedAt: time.Now()}
		if err := st.Motions().Create(ctx, m); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Secret().OpenRanked(ctx, m.ID, tc.candidates); (err == nil) != tc.ok {
			t.Errorf("OpenRanked of %d candidates: %v", tc.candidates, err)
		}
	}
}
