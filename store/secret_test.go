package store

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

// secretMotion stores an open motion with the given electorate, secret or not.
func secretMotion(t *testing.T, st *Store, room id.RoomID, secret bool, voters ...id.UserID) *Motion {
	t.Helper()
	m := newMotion(t, st, room, voters)
	if _, err := st.DB.Exec(context.Background(), "UPDATE motions SET secret=$2 WHERE id=$1", m.ID, secret); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSecretBallotOnlyOnOpenSecretMotions: a ballot sent by DM finds only
// open secret motions of that number whose electorate includes the voter.
// A DM "!vote 1 yes" must not reach an open vote numbered 1: counted there,
// it would raise the counters behind the room's back (no act to recount,
// nothing to redact) and could close the motion early.
func TestSecretBallotOnlyOnOpenSecretMotions(t *testing.T) {
	st, ctx := open(t), context.Background()
	const voter = id.UserID("@v:x")
	openVote := secretMotion(t, st, "!a", false, voter, "@w:x") // !a #1
	inA := secretMotion(t, st, "!a", true, voter)               // !a #2
	secretMotion(t, st, "!b", true, "@w:x")                     // !b #1: voter not in the electorate
	closed := secretMotion(t, st, "!c", true, voter)            // !c #1, closed below
	awaiting := secretMotion(t, st, "!d", true, voter)          // !d #1, back to awaiting below
	inD := secretMotion(t, st, "!d", true, voter)               // !d #2
	if err := st.Motions().Close(ctx, closed.ID, "carried", time.Now(), 1, 0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.Exec(ctx, "UPDATE motions SET status=$2 WHERE id=$1", awaiting.ID, MotionAwaitingSecond); err != nil {
		t.Fatal(err)
	}

	found, err := st.Secret().OpenByNumber(ctx, voter, 1)
	if err != nil || len(found) != 0 {
		t.Errorf("#1 by DM found %v, %v; want nothing (open vote, not in electorate, closed, awaiting a second)", found, err)
	}
	found, err = st.Secret().OpenByNumber(ctx, voter, 2)
	if err != nil || len(found) != 2 || found[0].ID != inA.ID || found[1].ID != inD.ID || !found[0].Secret {
		t.Errorf("#2 by DM found %v, %v; want !a #2 and !d #2", found, err)
	}
	if found, _ := st.Secret().OpenByNumber(ctx, "@w:x", 1); len(found) != 1 || found[0].Room != "!b" {
		t.Errorf("@w:x's #1 = %v, want !b's secret ballot only", found)
	}
	if got, _, _ := st.Motions().Get(ctx, openVote.ID); got.Yes+got.No+got.Abstain != 0 || got.Status != MotionOpen {
		t.Errorf("the open vote changed: %+v", got)
	}
}

// TestSecretCastCounts: a ballot moves exactly its choice's counter by one,
// once per voter; the receipts hold the ballots of that motion only.
func TestSecretCastCounts(t *testing.T) {
	st, ctx := open(t), context.Background()
	m := secretMotion(t, st, "!r", true, "@a:x", "@b:x", "@c:x", "@d:x")
	other := secretMotion(t, st, "!r", true, "@a:x")
	type tally struct{ yes, no, abstain int }
	for _, tc := range []struct {
		voter  id.UserID
		choice string
		code   string
		cast   bool
		want   tally
	}{
		{"@a:x", "yes", "A", true, tally{1, 0, 0}},
		{"@b:x", "no", "B", true, tally{1, 1, 0}},
		{"@c:x", "abstain", "C", true, tally{1, 1, 1}},
		{"@a:x", "no", "A2", false, tally{1, 1, 1}}, // cannot be changed
		{"@d:x", "yes", "D", true, tally{2, 1, 1}},
	} {
		cast, err := st.Secret().Cast(ctx, m.ID, tc.voter, tc.choice, tc.code)
		if err != nil || cast != tc.cast {
			t.Fatalf("%s %s: cast %v, %v; want %v", tc.voter, tc.choice, cast, err, tc.cast)
		}
		got, _, _ := st.Motions().Get(ctx, m.ID)
		if (tally{got.Yes, got.No, got.Abstain}) != tc.want {
			t.Fatalf("after %s %s: %d/%d/%d, want %v", tc.voter, tc.choice, got.Yes, got.No, got.Abstain, tc.want)
		}
	}
	if cast, err := st.Secret().Cast(ctx, other.ID, "@a:x", "abstain", "E"); err != nil || !cast {
		t.Fatalf("the same voter on another motion: %v %v", cast, err)
	}
	receipts, err := st.Secret().Receipts(ctx, m.ID)
	if err != nil || len(receipts) != 4 || receipts["A"] != "yes" || receipts["B"] != "no" || receipts["C"] != "abstain" || receipts["D"] != "yes" {
		t.Errorf("receipts = %v, %v", receipts, err)
	}
	if got, _, _ := st.Motions().Get(ctx, other.ID); got.Yes != 0 || got.No != 0 || got.Abstain != 1 {
		t.Errorf("the other motion: %d/%d/%d", got.Yes, got.No, got.Abstain)
	}
}

// TestSecretCastUnknownChoice: a choice other than yes, no or abstain is
// refused before anything is recorded, so the voter can still vote.
func TestSecretCastUnknownChoice(t *testing.T) {
	st, ctx := open(t), context.Background()
	m := secretMotion(t, st, "!r", true, "@a:x")
	if cast, err := st.Secret().Cast(ctx, m.ID, "@a:x", "Yes", "A"); err == nil || cast {
		t.Fatalf("choice Yes: %v %v", cast, err)
	}
	if cast, err := st.Secret().Cast(ctx, m.ID, "@a:x", "yes", "B"); err != nil || !cast {
		t.Fatalf("the vote after a refused one: %v %v", cast, err)
	}
	if receipts, _ := st.Secret().Receipts(ctx, m.ID); len(receipts) != 1 || receipts["B"] != "yes" {
		t.Errorf("receipts = %v", receipts)
	}
}
