package store

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

func TestElections(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.UnixMilli(1_700_000_000_000)
	room := id.RoomID("!r:test")
	motion := &Motion{Room: room, Kind: "motion", Proposer: "@a:test", Text: "m", Threshold: "majority", Quorum: "0", Status: MotionOpen, CreatedAt: now}
	if err := st.Motions().Create(ctx, motion); err != nil {
		t.Fatal(err)
	}
	m := &Motion{Room: room, Kind: KindContested, Payload: "{}", Proposer: "@a:test", Text: "treasurer", Threshold: "stv", Quorum: "0",
		Status: ElectionNominations, CreatedAt: now, ClosesAt: now.Add(time.Hour)}
	if err := st.Motions().Create(ctx, m); err != nil {
		t.Fatal(err)
	}
	if m.Number != 2 {
		t.Fatalf("the election is #%d, want #2 after motion #1", m.Number)
	}
	e := st.Elections()
	var ids []int64
	for _, u := range []id.UserID{"@b:test", "@c:test", "@b:test"} {
		nid, added, err := e.Nominate(ctx, m.ID, u, "@a:test", now)
		if err != nil || added != (len(ids) < 2) {
			t.Fatal(added, err)
		}
		ids = append(ids, nid)
	}
	if mid, u, ok, err := e.Nomination(ctx, ids[1]); err != nil || !ok || mid != m.ID || u != "@c:test" {
		t.Fatalf("nomination %d: %d %s %v %v", ids[1], mid, u, ok, err)
	}
	if _, _, ok, _ := e.Nomination(ctx, 999); ok {
		t.Fatal("a nomination that does not exist")
	}
	if ok, _ := e.Accept(ctx, m.ID, "@c:test", now); !ok {
		t.Fatal("not accepted")
	}
	if ok, _ := e.Accept(ctx, m.ID, "@c:test", now); ok {
		t.Fatal("accepted twice")
	}
	if ok, _ := e.Accept(ctx, m.ID, "@d:test", now); ok {
		t.Fatal("accepted without nomination")
	}
	cs, err := e.Candidates(ctx, m.ID)
	if err != nil || len(cs) != 2 || cs[0].User != "@b:test" || !cs[0].AcceptedAt.IsZero() || cs[1].AcceptedAt.IsZero() {
		t.Fatalf("%+v %v", cs, err)
	}
	if due, _ := e.Due(ctx, now); len(due) != 0 {
		t.Fatal("due early")
	}
	if due, _ := e.Due(ctx, now.Add(time.Hour)); len(due) != 1 {
		t.Fatal("not due")
	}
	if next, _ := e.NextDue(ctx); !next.Equal(now.Add(time.Hour)) {
		t.Fatalf("next %v", next)
	}
	m.Status, m.OpenedAt, m.ClosesAt = ElectionVoting, now, now.Add(48*time.Hour)
	if err := e.SetPhase(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := e.SetElectorate(ctx, m.ID, []id.UserID{"@a:test", "@b:test"}); err != nil {
		t.Fatal(err)
	}
	if had, _ := e.Rank(ctx, m.ID, "@a:test", []id.UserID{"@c:test", "@b:test"}, now); had {
		t.Fatal("had ranked")
	}
	if had, _ := e.Rank(ctx, m.ID, "@a:test", []id.UserID{"@b:test"}, now); !had {
		t.Fatal("had not ranked")
	}
	if _, err := e.Rank(ctx, m.ID, "@b:test", []id.UserID{"@c:test"}, now); err != nil {
		t.Fatal(err)
	}
	if had, _ := e.Rank(ctx, m.ID, "@b:test", nil, now); !had {
		t.Fatal("a withdrawal did not find the ranking")
	}
	// A second withdrawal finds nothing to withdraw: `!rank N` alone is then
	// refused ("You had not ranked").
	if had, err := e.Rank(ctx, m.ID, "@b:test", nil, now); had || err != nil {
		t.Fatalf("withdrawal of nothing: %v, %v", had, err)
	}
	rs, err := e.Rankings(ctx, m.ID)
	if err != nil || len(rs) != 1 || !slices.Equal(rs[0].Ranking, []id.UserID{"@b:test"}) {
		t.Fatalf("%+v %v", rs, err)
	}
	el, err := e.Electorate(ctx, m.ID)
	if err != nil || len(el) != 2 {
		t.Fatalf("%v %v", el, err)
	}
	got, _, _ := st.Motions().Get(ctx, m.ID)
	if got.Status != ElectionVoting || !got.ClosesAt.Equal(now.Add(48*time.Hour)) {
		t.Fatalf("%+v", got)
	}
}
