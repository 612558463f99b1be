package motions

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/store"
)

// The settle time before an early close is counted in the acts' own
// times, so that the result is the same whether the bot was running or
// caught up after a restart or a gap in the sync.

// settleAct is one act of voting, delivered with its own time at (as a
// catch-up delivers it, the clock later than its origin_server_ts).
type settleAct func(t *testing.T, h *Harness, notice, poll id.EventID, at time.Time)

// respondAt is a poll answer dated at.
func respondAt(sender id.UserID, answers ...string) settleAct {
	return func(t *testing.T, h *Harness, _, poll id.EventID, at time.Time) {
		t.Helper()
		err := h.A.HandlePollResponse(context.Background(), commands.PollResponse{Room: Room, Sender: sender, Event: h.NextEvent(),
			Target: poll, Answers: answers, Time: at})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// reactAt is a reaction on the notice dated at.
func reactAt(sender id.UserID, key string) settleAct {
	return func(t *testing.T, h *Harness, notice, _ id.EventID, at time.Time) {
		t.Helper()
		err := h.A.HandleReaction(context.Background(), commands.Reaction{Room: Room, Sender: sender, Event: h.NextEvent(),
			Target: notice, Key: key, Time: at})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// voteAt is a `!vote` dated at.
func voteAt(sender id.UserID, choice string) settleAct {
	return func(t *testing.T, h *Harness, _, _ id.EventID, at time.Time) {
		t.Helper()
		_, err := h.A.HandleMessage(context.Background(), commands.Message{Room: Room, Sender: sender, Event: h.NextEvent(),
			Time: at, Body: "!vote 1 " + choice})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// redactAt is sender's redaction, dated at, of their act evt.
func redactAt(sender id.UserID, evt id.EventID) settleAct {
	return func(t *testing.T, h *Harness, _, _ id.EventID, at time.Time) {
		t.Helper()
		err := h.A.HandleRedaction(context.Background(), commands.Redaction{Room: Room, Sender: sender, Event: h.NextEvent(),
			Redacts: evt, Time: at})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// outcome is a motion's status and tally.
func outcome(t *testing.T, h *Harness, n int) string {
	t.Helper()
	m, ok, err := h.Env.Store.Motions().ByNumber(context.Background(), Room, n)
	if err != nil || !ok {
		t.Fatalf("motion %d: %v %v", n, ok, err)
	}
	return fmt.Sprintf("%s %d/%d/%d", m.Status, m.Yes, m.No, m.Abstain)
}

// TestSettleLiveOrCaughtUp: the whole electorate has voted yes at start
// (chi's vote, by reaction, completes it), so the motion closes at
// start+30s. An act of chi's dated within the settle time counts, one
// dated at or after its end does not (the motion closed then), whether the bot was running (the act comes
// live, at its time) or down from start+1s to start+2m (the catch-up hands
// the act in before the scheduler runs). Before the settle close was
// judged by the acts' own times, a change dated after it counted after a
// restart (3/0/0 live, 2/1/0 restarted) and a withdrawal kept the motion
// open.
func TestSettleLiveOrCaughtUp(t *testing.T) {
	chiVote := id.EventID("$chi-vote")
	for _, tc := range []struct {
		name  string
		after time.Duration // after start
		act   settleAct
		want  string
	}{
		{"answer within", 20 * time.Second, respondAt(Chi, "no"), "carried 2/1/0"},
		{"answer after", 60 * time.Second, respondAt(Chi, "no"), "carried 3/0/0"},
		{"reaction just before", 30*time.Second - time.Millisecond, reactAt(Chi, "👎"), "carried 2/1/0"},
		{"reaction at the close", 30 * time.Second, reactAt(Chi, "👎"), "carried 3/0/0"},
		{"!vote within", 10 * time.Second, voteAt(Chi, "abstain"), "carried 2/0/1"},
		{"!vote after", 10 * time.Minute, voteAt(Chi, "abstain"), "carried 3/0/0"},
		{"empty answer within", 20 * time.Second, respondAt(Chi), "open 2/0/0"},
		{"empty answer after", 60 * time.Second, respondAt(Chi), "carried 3/0/0"},
		{"redaction within", 20 * time.Second, redactAt(Chi, chiVote), "open 2/0/0"},
		{"redaction after", 60 * time.Second, redactAt(Chi, chiVote), "carried 3/0/0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(t *testing.T, restart bool) string {
				h := newPollHarness(t, Ana, Ben, Chi)
				notice, poll := openPolled(t, h, "!motion Pay the rent")
				start := h.Clock.Now()
				respondAt(Ana, "yes")(t, h, notice.EventID, poll.EventID, start)
				respondAt(Ben, "yes")(t, h, notice.EventID, poll.EventID, start)
				if err := h.A.HandleReaction(context.Background(), commands.Reaction{Room: Room, Sender: Chi, Event: chiVote,
					Target: notice.EventID, Key: "👍", Time: start}); err != nil {
					t.Fatal(err)
				}
				h.Drain()
				at := start.Add(tc.after)
				if restart {
					h.Clock.Advance(2*time.Minute + tc.after) // down: nothing ran
				} else {
					h.AdvanceTo(at) // live: the scheduler ran until the act
				}
				tc.act(t, h, notice.EventID, poll.EventID, at)
				h.AdvanceTo(h.Clock.Now().Add(time.Minute))
				return outcome(t, h, 1)
			}
			live, restarted := run(t, false), run(t, true)
			if live != tc.want || restarted != tc.want {
				t.Errorf("live: %s; after a restart: %s; want %s", live, restarted, tc.want)
			}
		})
	}
}

// TestSettleFromVoteTime: the last vote is dated start, but the bot, down,
// handles it an hour later: the settle time runs from the vote, not from
// when the bot saw it, so a change dated 10 minutes later is refused (as
// it would have been live, the motion having closed at start+30s), and
// its voter is told so, privately, once; the notice, edited meanwhile,
// says when the motion closed.
func TestSettleFromVoteTime(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	notice, poll := openPolled(t, h, "!motion Pay the rent")
	n, p := notice.EventID, poll.EventID
	start := h.Clock.Now()
	respondAt(Ana, "yes")(t, h, n, p, start)
	respondAt(Ben, "yes")(t, h, n, p, start)
	h.Clock.Advance(time.Hour) // the bot was down
	respondAt(Chi, "yes")(t, h, n, p, start)
	respondAt(Chi, "no")(t, h, n, p, start.Add(10*time.Minute))
	reactAt(Chi, "👎")(t, h, n, p, start.Add(11*time.Minute))
	out := h.Drain()
	if dms := Saying(out, "Motion #1 closed at 12:00:30, 30s after everyone had voted, so your vote after that was not counted."); len(dms) != 1 || dms[0].DMUser != Chi {
		t.Errorf("chi should be told once, privately, that his change came after the close:%s", Bodies(out))
	}
	if got := tally(t, h, 1); got != (Tally{3, 0, 0}) {
		t.Errorf("tally %+v: a change dated after the settle close counted", got)
	}
	m, _, err := h.Env.Store.Motions().ByNumber(context.Background(), Room, 1)
	if err != nil || !m.SettlesAt.Equal(start.Add(30*time.Second)) {
		t.Errorf("settles at %s (%v), want 30 s after the last vote's own time", m.SettlesAt, err)
	}
	out = h.AdvanceTo(h.Clock.Now().Add(time.Second))
	if r := One(t, out, "Motion #1: Carried"); !strings.Contains(r.Msg.Body, "Carried 3–0, 0 abstentions; 3 of 3 voted") {
		t.Errorf("result %q", r.Msg.Body)
	}
}

// TestSettleOutOfOrder: the vote that completes the electorate can come
// after later ones (a slow server): the settle time then runs from the
// latest vote, not from an earlier close than the acts allow.
func TestSettleOutOfOrder(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	notice, poll := openPolled(t, h, "!motion Pay the rent")
	n, p := notice.EventID, poll.EventID
	start := h.Clock.Now()
	h.Clock.Advance(time.Minute)
	respondAt(Ana, "yes")(t, h, n, p, start.Add(10*time.Second))
	respondAt(Ben, "yes")(t, h, n, p, start.Add(20*time.Second))
	respondAt(Chi, "yes")(t, h, n, p, start) // delivered last
	respondAt(Ben, "no")(t, h, n, p, start.Add(45*time.Second))
	h.Drain()
	m, _, err := h.Env.Store.Motions().ByNumber(context.Background(), Room, 1)
	if err != nil || !m.SettlesAt.Equal(start.Add(50*time.Second)) {
		t.Errorf("settles at %s (%v), want 30 s after the latest vote", m.SettlesAt, err)
	}
	if got := tally(t, h, 1); got != (Tally{2, 1, 0}) {
		t.Errorf("tally %+v: ben's change within the settle time should count", got)
	}
}

// TestProposerCloseWaitsForSettle: once everyone has voted, the
// proposer's `!close` does not cut the settle time short (a member who
// tapped the wrong answer can still correct it): it says when the motion
// closes by itself. A moderator's close still closes at once.
func TestProposerCloseWaitsForSettle(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	_, poll := openPolled(t, h, "!motion Pay the rent")
	h.Respond(Ana, poll.EventID, "yes")
	h.Respond(Ben, poll.EventID, "no")
	h.Respond(Chi, poll.EventID, "yes") // chi meant no
	h.Drain()
	h.Clock.Advance(5 * time.Second)
	Expect(t, h, Ana, "!close 1", "Everyone has voted on motion #1: it closes by itself at 12:00:30, so that a member who tapped the wrong answer can still change it.")
	if got := status(t, h, 1); got != store.MotionOpen {
		t.Fatalf("the proposer's !close closed it within the settle time: %s", got)
	}
	h.Respond(Chi, poll.EventID, "no") // within the settle time
	h.Drain()
	out := h.AdvanceTo(h.Clock.Now().Add(25 * time.Second))
	if r := One(t, out, "Motion #1: Failed"); !strings.Contains(r.Msg.Body, "Failed 1–2") {
		t.Errorf("result %q: chi's correction within the settle time should count", r.Msg.Body)
	}

	// A moderator overrides.
	h.Rooms.Power[Ben] = 50
	_, poll = openPolled(t, h, "!motion Buy a banner")
	for _, u := range []id.UserID{Ana, Ben, Chi} {
		h.Respond(u, poll.EventID, "yes")
	}
	h.Drain()
	out = h.SendAndDrain(Ben, "!close 2")
	One(t, out, "Motion #2: Carried")
}

// TestPollEndOfficialResult: the poll's end says that its result is the
// official count (clients show their own count of the poll answers they
// saw, without reactions or `!vote`), and carries the official counts as
// poll results by answer ID; a withdrawn motion's end has no counts. A
// `!poll` question's end does the same.
func TestPollEndOfficialResult(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	notice, poll := openPolled(t, h, "!motion --closes 2h Pay the rent")
	h.Respond(Ana, poll.EventID, "yes")
	h.React(Ben, notice.EventID, "👍")
	h.Send(Chi, "!vote 1 abstain")
	h.Drain()
	end := Polls(h.AdvanceTo(h.Clock.Now().Add(2*time.Hour)), PollEndType)
	if len(end) != 1 {
		t.Fatalf("%d poll ends", len(end))
	}
	c := end[0].Ev.Content
	if text, _ := c["org.matrix.msc1767.text"].(string); !strings.HasPrefix(text, "Official result (counting reactions, poll answers and !vote): Motion #1: Carried 2–0, 1 abstention; 3 of 3 voted") {
		t.Errorf("poll end text %q", text)
	}
	if r, _ := c[PollResultsKey].(map[string]any); r["yes"] != 2.0 || r["no"] != 0.0 || r["abstain"] != 1.0 || len(r) != 3 {
		t.Errorf("poll results %v", c[PollResultsKey])
	}

	// Voted by poll alone.
	h.Env.Config.Motions.Ballot = []string{"poll"}
	_, poll = openPolled(t, h, "!motion --closes 2h Buy a banner")
	h.Respond(Ana, poll.EventID, "no")
	h.Drain()
	end = Polls(h.AdvanceTo(h.Clock.Now().Add(2*time.Hour)), PollEndType)
	if text, _ := end[0].Ev.Content["org.matrix.msc1767.text"].(string); !strings.HasPrefix(text, "Official result (counting poll answers and !vote): Motion #2: ") {
		t.Errorf("poll end text %q", text)
	}

	// Withdrawn: nothing was decided.
	openPolled(t, h, "!motion Paint the office")
	end = Polls(h.SendAndDrain(Ana, "!withdraw 3"), PollEndType)
	if text, _ := end[0].Ev.Content["org.matrix.msc1767.text"].(string); strings.Contains(text, "Official") || end[0].Ev.Content[PollResultsKey] != nil {
		t.Errorf("a withdrawn motion's poll end: %v", end[0].Ev.Content)
	}

	// A question.
	h.Send(Ana, "!poll Which day? : Monday | Tuesday")
	var question id.EventID
	for _, s := range h.Drain() {
		if s.Kind == commands.KindEvent && s.Ev.Type == PollStartType {
			question = s.EventID
		}
	}
	h.Respond(Ben, question, "2")
	h.Drain()
	end = Polls(h.SendAndDrain(Ana, "!close 4"), PollEndType)
	if len(end) != 1 {
		t.Fatalf("%d question poll ends", len(end))
	}
	if text, _ := end[0].Ev.Content["org.matrix.msc1767.text"].(string); !strings.HasPrefix(text, "Official result: Poll #4 closed") {
		t.Errorf("question poll end text %q", text)
	}
	if r, _ := end[0].Ev.Content[PollResultsKey].(map[string]any); r["1"] != 0.0 || r["2"] != 1.0 || len(r) != 2 {
		t.Errorf("question poll results %v", end[0].Ev.Content[PollResultsKey])
	}
}
