package motions

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/store"
)

func amendHarness(t *testing.T, members ...id.UserID) *Harness {
	t.Helper()
	h := NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		m := New(env, log)
		return []commands.Feature{m, NewAmendments(m), NewDelegates(m)}
	}, members...)
	h.Env.Config.Motions.Settle = "0s"
	return h
}

func motionNo(t *testing.T, h *Harness, n int) *store.Motion {
	t.Helper()
	m, ok, err := h.Env.Store.Motions().ByNumber(context.Background(), Room, n)
	if err != nil || !ok {
		t.Fatalf("motion #%d: %v", n, err)
	}
	return m
}

// TestAmendmentCarried: the main vote is suspended (votes refused, its
// deadline does not close it); the amendment carries; the text is
// replaced, the votes cleared and their voters told; voting reopens for the
// full voting time; a late vote sent before the amendment is refused.
func TestAmendmentCarried(t *testing.T) {
	h := amendHarness(t, Ana, Ben, Chi)
	notice, poll := openPolled(t, h, "!motion --closes 2h Buy a kettle")
	Expect(t, h, Ben, "!vote 1 yes", "")
	Expect(t, h, Chi, "!vote 1 no", "")
	beforeAmend := h.Clock.Now()

	h.Clock.Advance(30 * time.Minute)
	out := h.SendAndDrain(Ana, "!amend 1 : Buy two kettles")
	One(t, out, "Voting on motion #1 is suspended while amendment #2")
	// Clients show what an amendment changes from quorum.amendment.
	amendment, ok := One(t, out, "Motion #2").Msg.Fields["quorum.amendment"].(map[string]any)
	if !ok || amendment["motion"] != float64(1) || amendment["old_text"] != "Buy a kettle" || amendment["new_text"] != "Buy two kettles" {
		t.Fatalf("quorum.amendment = %#v", amendment)
	}
	if edit := One(t, out, "Voting is suspended"); edit.Msg.Edit == nil {
		t.Fatalf("the main notice is not edited: %+v", edit.Msg)
	}
	if m := motionNo(t, h, 2); m.Kind != kindAmendment || m.Text != "Buy two kettles" || m.Status != store.MotionOpen {
		t.Fatalf("amendment %+v", m)
	}
	Expect(t, h, Ana, "!vote 1 yes", "suspended")
	Expect(t, h, Ben, "!amend 1 : Buy three kettles", "already has an amendment")
	Expect(t, h, Ben, "!amend 2 : Buy a teapot", "amendments to amendments")
	Expect(t, h, Ana, "!withdraw 2", "can't be withdrawn")

	// The main motion's deadline passes while suspended: nothing closes.
	if out := h.AdvanceTo(beforeAmend.Add(3 * time.Hour)); len(Saying(out, "Motion #1:")) != 0 {
		t.Fatalf("the suspended motion closed:%s", Bodies(out))
	}
	h.Send(Ana, "!vote 2 yes")
	h.Send(Ben, "!vote 2 yes")
	h.Send(Chi, "!vote 2 no")
	out = h.Drain()
	One(t, out, "Motion #2: Carried 2–1")
	amended := One(t, out, "Motion #1 is amended")
	if ends := Polls(out, PollEndType); len(ends) != 2 { // the amendment's own poll, and the main motion's old one
		t.Fatalf("%d poll ends:%s", len(ends), Bodies(out))
	}
	if amended.Msg.Fields["quorum.record"] == nil || !strings.Contains(amended.Msg.Body, "2 votes cast on it are cleared") {
		t.Fatalf("amended: %s", amended.Msg.Body)
	}
	dms := 0
	for _, s := range out {
		if s.DMUser == Ben || s.DMUser == Chi {
			if strings.Contains(s.Msg.Body, "your vote on it was cleared") && strings.Contains(s.Msg.Body, "Buy two kettles") {
				dms++
			}
		}
	}
	if dms != 2 {
		t.Fatalf("%d voters told:%s", dms, Bodies(out))
	}
	m := motionNo(t, h, 1)
	if m.Text != "Buy two kettles" || m.Status != store.MotionOpen || m.Voted() != 0 ||
		!m.ClosesAt.Equal(h.Clock.Now().Add(90*time.Minute)) { // what it had left, more than the least voting time (1h)
		t.Fatalf("main motion after: %+v", m)
	}
	if y, n, a, _ := h.Env.Store.Votes().Recount(context.Background(), m.ID); y+n+a != 0 {
		t.Fatalf("recount %d %d %d after clearing", y, n, a)
	}
	// A reaction sent before the amendment, handled only now, is refused.
	err := h.A.HandleReaction(context.Background(), commands.Reaction{Room: Room, Sender: Ana, Event: h.NextEvent(),
		Target: notice.EventID, Key: "👍", Time: beforeAmend.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if late := h.Drain(); len(Saying(late, "before it was amended")) != 1 {
		t.Fatalf("late vote:%s", Bodies(late))
	}
	// The old poll (it shows the old wording) was ended; an answer to it
	// does not count.
	h.Respond(Ben, poll.EventID, "yes") // (ana was told about motion #1 once already)
	if late := h.Drain(); len(Saying(late, "its poll is closed")) != 1 {
		t.Fatalf("an answer to the old poll:%s", Bodies(late))
	}
	if m := motionNo(t, h, 1); m.Voted() != 0 || m.Poll {
		t.Fatalf("after an answer to the old poll: %+v", m)
	}
	Expect(t, h, Ana, "!motion 1", "Buy two kettles")
	h.Send(Ana, "!vote 1 yes")
	h.Send(Ben, "!vote 1 yes")
	h.Send(Chi, "!vote 1 no")
	One(t, h.Drain(), "Motion #1: Carried 2–1")
}

// TestAmendmentFailed: the vote on the unchanged motion resumes for the
// time it had left, with its votes.
func TestAmendmentFailed(t *testing.T) {
	h := amendHarness(t, Ana, Ben, Chi)
	h.SendAndDrain(Ana, "!motion --closes 2h Buy a kettle")
	Expect(t, h, Ben, "!vote 1 yes", "")
	h.Clock.Advance(30 * time.Minute)
	h.SendAndDrain(Chi, "!amend 1 : Buy a teapot")
	h.Clock.Advance(10 * time.Minute)
	h.Send(Ana, "!vote 2 no")
	h.Send(Ben, "!vote 2 no")
	h.Send(Chi, "!vote 2 yes")
	out := h.Drain()
	One(t, out, "Motion #2: Failed 1–2")
	One(t, out, "did not carry: voting on motion #1, unchanged, resumes")
	m := motionNo(t, h, 1)
	if m.Text != "Buy a kettle" || m.Status != store.MotionOpen || m.Yes != 1 || !m.ClosesAt.Equal(h.Clock.Now().Add(90*time.Minute)) {
		t.Fatalf("main motion after: %+v (now %v)", m, h.Clock.Now())
	}
}

func TestAmendmentRefusals(t *testing.T) {
	h := amendHarness(t, Ana, Ben)
	h.SendAndDrain(Ana, "!motion --secret Strike")
	h.SendAndDrain(Ana, "!delegate @ben:test negotiator : Talk")
	h.SendAndDrain(Ana, "!motion Buy a kettle")
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!amend 1 : Strike on Monday", Want: "secret ballot can't be amended"},
		{From: Ana, Cmd: "!amend 2 : Talk more", Want: "Only a plain motion"},
		{From: Ana, Cmd: "!amend 3 : Buy a kettle", Want: "wording already"},
		{From: Ana, Cmd: "!amend 3 Buy a kettle", Want: "after a colon"},
		{From: Ana, Cmd: "!amend 9 : x", Want: "no motion #9"},
	})
	h.SendAndDrain(Ana, "!withdraw 3")
	Expect(t, h, Ana, "!amend 3 : Buy two", "Only an open motion")
}

// TestAmendmentAtTheLimits: an amendment of exactly the longest wording
// opens, and so does one whose quorum (raised to the standing orders') is
// the whole electorate: reachable if everyone votes.
func TestAmendmentAtTheLimits(t *testing.T) {
	h := amendHarness(t, Ana, Ben)
	h.Env.Config.StandingOrders.Quorum = "2"
	h.SendAndDrain(Ana, "!motion Buy a kettle")
	text := strings.Repeat("x", maxMotionText)
	out := h.SendAndDrain(Ben, "!amend 1 : "+text)
	One(t, out, "Voting on motion #1 is suspended while amendment #2")
	if m := motionNo(t, h, 2); m.Text != text || m.QuorumCount != 2 {
		t.Fatalf("amendment: %d characters, quorum %d", len(m.Text), m.QuorumCount)
	}
	Expect(t, h, Ana, "!amend 1 : "+text+"x", fmt.Sprintf("more than %d characters", maxMotionText))
}
