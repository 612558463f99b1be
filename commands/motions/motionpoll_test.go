package motions

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/config"
)

// openPolled proposes a motion as ana in h and returns its notice and its
// poll's start, as sent.
func openPolled(t *testing.T, h *Harness, args string) (notice, poll Sent) {
	t.Helper()
	h.Send(Ana, args)
	out := h.Drain()
	starts := Polls(out, PollStartType)
	if len(out) != 2 || out[0].Kind != commands.KindMessage || len(starts) != 1 || out[1].Kind != commands.KindEvent {
		t.Fatalf("%s: want a notice and then a poll, got:%s", args, Bodies(out))
	}
	return out[0], starts[0]
}

// TestPollOpensWithMotion: an open-ballot motion, and an election, open a
// poll after their notice, with the answers yes, no and abstain, one
// selection, undisclosed, carrying the motion's number; the poll is
// anchored so that answers find the motion. A secret ballot opens none.
func TestPollOpensWithMotion(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	notice, poll := openPolled(t, h, "!motion Pay the rent @room")
	if !strings.Contains(notice.Msg.Body, "Vote in the poll below, by reacting here: 👍 yes · 👎 no · 🤷 abstain, or send `!vote 1 yes|no|abstain`.") {
		t.Errorf("the notice does not say how to vote:\n%s", notice.Msg.Body)
	}
	c := poll.Ev.Content
	start, _ := c["org.matrix.msc3381.poll.start"].(map[string]any)
	if start["kind"] != "org.matrix.msc3381.poll.undisclosed" || start["max_selections"] != 1.0 {
		t.Errorf("poll.start = %v", start)
	}
	q, _ := start["question"].(map[string]any)
	if q["org.matrix.msc1767.text"] != "Motion #1: Pay the rent @\u2060room" {
		t.Errorf("question = %v (the text must not ping the room)", q)
	}
	answers, _ := start["answers"].([]any)
	var ids []string
	for _, a := range answers {
		ids = append(ids, a.(map[string]any)["id"].(string))
	}
	if strings.Join(ids, ",") != "yes,no,abstain" {
		t.Errorf("answer IDs = %v", ids)
	}
	if f, _ := c["quorum.motion"].(map[string]any); f["id"] != 1.0 {
		t.Errorf("quorum.motion = %v", c["quorum.motion"])
	}
	if poll.Ev.Anchor == nil || poll.Ev.Anchor.Kind != anchorPoll || poll.Ev.Reference != nil {
		t.Errorf("poll anchor %+v, reference %+v", poll.Ev.Anchor, poll.Ev.Reference)
	}
	if m, ok := c["m.mentions"].(map[string]any); !ok || len(m) != 0 {
		t.Errorf("the poll must mention nobody: %v", c["m.mentions"])
	}

	// Elections, recalls and ratifications are motions: they open one too.
	openPolled(t, h, "!delegate @ben:test negotiator : Negotiate")

	// A secret ballot is voted in direct chats: no poll.
	h.Send(Ana, "!motion --secret Strike")
	if out := h.Drain(); len(Polls(out, PollStartType)) != 0 {
		t.Errorf("a secret ballot opened a poll:%s", Bodies(out))
	}

	// The kind is configurable.
	h.Env.Config.Motions.PollKind = "disclosed"
	_, poll = openPolled(t, h, "!motion Buy a banner")
	if k := poll.Ev.Content["org.matrix.msc3381.poll.start"].(map[string]any)["kind"]; k != "org.matrix.msc3381.poll.disclosed" {
		t.Errorf("kind = %v", k)
	}
}

// TestPollResponsesAreVotes: answers count by the rules of reactions. The
// latest act counts across the poll, reactions and !vote; an empty or
// unknown answer withdraws; a redelivered answer counts once; an
// outsider's and a late answer are refused, privately, once; a redacted
// answer is withdrawn.
func TestPollResponsesAreVotes(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi, Dan)
	notice, poll := openPolled(t, h, "!motion Pay the rent")
	p := poll.EventID

	h.Respond(Ana, p, "yes")
	h.Respond(Ben, p, "no")
	h.Respond(Ben, p, "yes") // ben changes his answer
	if got := tally(t, h, 1); got != (Tally{2, 0, 0}) {
		t.Fatalf("tally %+v, want 2/0/0", got)
	}
	// A reaction after a poll answer replaces it, and back.
	h.React(Ana, notice.EventID, "👎")
	if got := tally(t, h, 1); got != (Tally{1, 1, 0}) {
		t.Fatalf("after ana's 👎: %+v", got)
	}
	h.Respond(Ana, p, "abstain")
	if got := tally(t, h, 1); got != (Tally{1, 0, 1}) {
		t.Fatalf("after ana's poll abstention: %+v", got)
	}
	h.Reply(Ana, "!vote 1 no")
	if got := tally(t, h, 1); got != (Tally{1, 1, 0}) {
		t.Fatalf("after ana's !vote no: %+v", got)
	}
	// An empty answer, or one the poll does not offer, withdraws.
	h.Respond(Ana, p)
	if got := tally(t, h, 1); got != (Tally{1, 0, 0}) {
		t.Fatalf("after ana's empty answer: %+v", got)
	}
	h.Respond(Ben, p, "maybe", "yes")
	if got := tally(t, h, 1); got != (Tally{0, 0, 0}) {
		t.Fatalf("after ben's unknown answer: %+v", got)
	}
	// Only the first selection counts (max_selections 1).
	h.Respond(Ben, p, "no", "yes")
	if got := tally(t, h, 1); got != (Tally{0, 1, 0}) {
		t.Fatalf("after ben's no+yes: %+v", got)
	}
	// A redacted answer is withdrawn: ben's no before it stands again; he
	// hears of it privately.
	benAbstain := h.Respond(Ben, p, "abstain")
	h.Drain()
	h.Redact(Ben, benAbstain)
	if got := tally(t, h, 1); got != (Tally{0, 1, 0}) {
		t.Fatalf("after ben's redaction: %+v", got)
	}
	if out := h.Drain(); len(out) < 1 || out[0].DMUser != Ben || !strings.Contains(out[0].Msg.Body, "poll answer") {
		t.Errorf("ben was not told of the redaction:%s", Bodies(out))
	}
	// A redelivered answer counts once.
	evt := h.NextEvent()
	for range 2 {
		err := h.A.HandlePollResponse(context.Background(), commands.PollResponse{Room: Room, Sender: Chi, Event: evt, Target: p, Answers: []string{"yes"}, Time: h.Clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := tally(t, h, 1); got != (Tally{1, 1, 0}) {
		t.Fatalf("after chi's redelivered yes: %+v", got)
	}
	// An answer to the poll from another room is nothing.
	if err := h.A.HandlePollResponse(context.Background(), commands.PollResponse{Room: "!other:test", Sender: Dan, Event: h.NextEvent(), Target: p, Answers: []string{"no"}, Time: h.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// An answer to the notice, not the poll, is nothing either.
	h.Respond(Dan, notice.EventID, "no")
	if got := tally(t, h, 1); got != (Tally{1, 1, 0}) {
		t.Fatalf("answers in another room or to the notice counted: %+v", got)
	}
	h.Drain()

	// An outsider (joined after the opening) is told once, privately.
	eve := id.UserID("@eve:test")
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], eve)
	h.Respond(eve, p, "yes")
	h.Respond(eve, p, "no")
	out := h.Drain()
	if len(out) != 1 || out[0].DMUser != eve || !strings.Contains(out[0].Msg.Body, "only the members of the room when it opened") {
		t.Errorf("eve should be told once, privately:%s", Bodies(out))
	}
	if got := tally(t, h, 1); got != (Tally{1, 1, 0}) {
		t.Fatalf("an outsider's answer counted: %+v", got)
	}
	// A late answer (after the deadline, before the close) is refused.
	h.Clock.Advance(73 * time.Hour)
	h.Respond(Dan, p, "yes")
	h.Respond(Dan, p, "yes")
	if got := tally(t, h, 1); got != (Tally{1, 1, 0}) {
		t.Fatalf("a late answer counted: %+v", got)
	}
	if out := h.Drain(); len(out) != 1 || out[0].DMUser != Dan || !strings.Contains(out[0].Msg.Body, "closed") {
		t.Errorf("dan should be told once that he was late:%s", Bodies(out))
	}
}

// TestPollEndsWithMotion: when the motion closes, the result is posted,
// the notice edited, and the poll ended with the result, referring to the
// poll; the poll itself is never edited. A withdrawn motion's poll is
// ended too.
func TestPollEndsWithMotion(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	notice, poll := openPolled(t, h, "!motion --closes 2h Pay the rent")
	h.Respond(Ana, poll.EventID, "yes")
	h.React(Ben, notice.EventID, "👍")
	h.Drain()
	out := h.AdvanceTo(h.Clock.Now().Add(2 * time.Hour))
	ends := Polls(out, PollEndType)
	if len(ends) != 1 || len(Polls(out, PollStartType)) != 0 {
		t.Fatalf("want one poll end:%s", Bodies(out))
	}
	end := ends[0].Ev
	if end.Reference == nil || end.Reference.Kind != anchorPoll || end.Anchor != nil {
		t.Errorf("poll end refers to %+v", end.Reference)
	}
	if _, ok := end.Content["org.matrix.msc3381.poll.end"]; !ok {
		t.Errorf("no poll.end in %v", end.Content)
	}
	text, _ := end.Content["org.matrix.msc1767.text"].(string)
	if !strings.Contains(text, "Motion #1: Carried 2–0, 0 abstentions; 2 of 3 voted") {
		t.Errorf("poll end text %q", text)
	}
	if f, _ := end.Content["quorum.motion"].(map[string]any); f["status"] != "carried" || f["yes"] != 2.0 {
		t.Errorf("poll end quorum.motion = %v", end.Content["quorum.motion"])
	}
	for _, o := range out {
		if o.Kind == commands.KindMessage && o.Msg.Edit != nil && o.Msg.Edit.Kind != anchorMotion {
			t.Errorf("something other than the notice was edited: %+v", o.Msg.Edit)
		}
	}
	One(t, out, "Motion #1: Carried")

	_, _ = openPolled(t, h, "!motion Buy a banner")
	out = h.SendAndDrain(Ana, "!withdraw 2")
	if ends := Polls(out, PollEndType); len(ends) != 1 || !strings.Contains(ends[0].Ev.Content["org.matrix.msc1767.text"].(string), "withdrawn") {
		t.Errorf("a withdrawn motion's poll was not ended:%s", Bodies(out))
	}
}

// TestBallotChannels: with motions.ballot [poll] reactions are refused,
// privately, once, and the notice says to use the poll; with [reactions]
// no poll opens. A motion keeps the channels it was created with.
func TestBallotChannels(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	h.Env.Config.Motions.Ballot = []string{"poll"}
	notice, poll := openPolled(t, h, "!motion Pay the rent")
	if !strings.Contains(notice.Msg.Body, "Vote in the poll below, or send `!vote 1 yes|no|abstain`.") || strings.Contains(notice.Msg.Body, "👍") {
		t.Errorf("notice:\n%s", notice.Msg.Body)
	}
	h.Env.Config.Motions.Ballot = []string{"reactions"} // a change of configuration later...
	h.React(Ben, notice.EventID, "👍")
	h.React(Ben, notice.EventID, "👎")
	if got := tally(t, h, 1); got != (Tally{}) {
		t.Fatalf("a reaction counted on a poll-only motion: %+v", got)
	}
	if out := h.Drain(); len(out) != 1 || out[0].DMUser != Ben || !strings.Contains(out[0].Msg.Body, "Reactions on motion #1 are not counted: vote in its poll") {
		t.Errorf("ben should be told once, privately:%s", Bodies(out))
	}
	h.Respond(Ben, poll.EventID, "no") // ...does not change how motion #1 is voted
	if got := tally(t, h, 1); got != (Tally{0, 1, 0}) {
		t.Fatalf("tally %+v", got)
	}
	h.Send(Ana, "!motion Buy a banner")
	if out := h.Drain(); len(out) != 1 || len(Polls(out, PollStartType)) != 0 {
		t.Errorf("with ballot [reactions], want the notice alone:%s", Bodies(out))
	}
}

func TestCheckBallotConfig(t *testing.T) {
	cfg := Config(t)
	for _, tc := range []struct {
		name   string
		mutate func(m *config.Motions)
		want   string
	}{
		{"empty", func(m *config.Motions) { m.Ballot = nil }, "motions.ballot is empty"},
		{"unknown", func(m *config.Motions) { m.Ballot = []string{"reactions", "polls"} }, `motions.ballot entry "polls"`},
		{"twice", func(m *config.Motions) { m.Ballot = []string{"poll", "poll"} }, `lists "poll" twice`},
		{"kind", func(m *config.Motions) { m.PollKind = "hidden" }, `motions.poll_kind "hidden"`},
		{"settle", func(m *config.Motions) { m.Settle = "1h" }, `motions.settle "1h"`},
		{"settle unit", func(m *config.Motions) { m.Settle = "30" }, `motions.settle "30"`},
	} {
		saved := cfg.Motions
		tc.mutate(&cfg.Motions)
		err := CheckConfig(cfg)
		var cfgErr *config.Error
		if !errors.As(err, &cfgErr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want a config error with %q", tc.name, err, tc.want)
		}
		cfg.Motions = saved
	}
	for _, ok := range [][]string{{"poll"}, {"reactions"}, {"poll", "reactions"}, {"reactions", " poll"}} {
		cfg.Motions.Ballot = ok
		if err := CheckConfig(cfg); err != nil {
			t.Errorf("ballot %q refused: %v", ok, err)
		}
	}
}

// TestSettleBeforeEarlyClose: a motion whose whole electorate has voted
// closes after the settle time (30 s by default), not at once; a change
// within it counts; a withdrawal stops the countdown, and the next complete
// electorate starts it again. The scheduler is told when to come back.
func TestSettleBeforeEarlyClose(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	notice, poll := openPolled(t, h, "!motion Pay the rent")
	p := poll.EventID
	start := h.Clock.Now()
	h.Respond(Ana, p, "yes")
	h.Respond(Ben, p, "yes")
	h.Clock.Advance(5 * time.Second)
	h.Respond(Chi, p, "no") // everyone has voted: 30 s from now
	if got := status(t, h, 1); got != "open" {
		t.Fatalf("closed at once: %s", got)
	}
	if next := h.Due(); !next.Equal(start.Add(35 * time.Second)) {
		t.Errorf("next due %s, want the settle time %s", next, start.Add(35*time.Second))
	}
	if edit := One(t, h.Drain(), "Everyone has voted: it closes at 12:00:35; a change until then counts."); edit.Msg.Edit == nil {
		t.Error("the notice was not edited to say when it closes")
	}
	h.Clock.Advance(20 * time.Second)
	h.React(Chi, notice.EventID, "👍") // chi corrects within the settle time
	h.Clock.Advance(9 * time.Second)
	if out := h.AdvanceTo(h.Clock.Now()); len(Saying(out, "Motion #1: Carried")) != 0 {
		t.Fatal("closed before the settle time")
	}
	out := h.AdvanceTo(start.Add(35 * time.Second))
	if r := One(t, out, "Motion #1: Carried"); !strings.Contains(r.Msg.Body, "Carried 3–0, 0 abstentions; 3 of 3 voted") {
		t.Errorf("result %q: chi's change within the settle time should count", r.Msg.Body)
	}
	if len(Polls(out, PollEndType)) != 1 {
		t.Errorf("the poll was not ended:%s", Bodies(out))
	}

	// A withdrawal within the settle time stops it; voting again starts it
	// again.
	_, poll = openPolled(t, h, "!motion Buy a banner")
	p = poll.EventID
	for _, u := range []id.UserID{Ana, Ben, Chi} {
		h.Respond(u, p, "no")
	}
	h.Clock.Advance(10 * time.Second)
	h.Respond(Chi, p) // an empty answer withdraws
	if out := h.AdvanceTo(h.Clock.Now().Add(time.Minute)); len(Saying(out, "Motion #2:")) != 0 || status(t, h, 2) != "open" {
		t.Fatalf("closed though chi withdrew:%s", Bodies(out))
	}
	h.Respond(Chi, p, "abstain")
	if out := h.AdvanceTo(h.Clock.Now().Add(29 * time.Second)); status(t, h, 2) != "open" {
		t.Fatalf("closed before a new settle time:%s", Bodies(out))
	}
	out = h.AdvanceTo(h.Clock.Now().Add(time.Second))
	if r := One(t, out, "Motion #2: Failed"); !strings.Contains(r.Msg.Body, "Failed 0–2, 1 abstention; 3 of 3 voted") {
		t.Errorf("result %q", r.Msg.Body)
	}

	// With motions.settle 0s, it closes at once.
	h.Env.Config.Motions.Settle = "0s"
	_, poll = openPolled(t, h, "!motion Paint the office")
	for _, u := range []id.UserID{Ana, Ben, Chi} {
		h.Respond(u, poll.EventID, "yes")
	}
	if got := status(t, h, 3); got != Carried {
		t.Errorf("with settle 0s: %s", got)
	}
}

// TestChannelsModel drives random acts through the rules, as the bot
// delivers them: reactions (some not votes), poll answers (some empty or
// unknown, which withdraw), `!vote`, redactions of any of them (some by
// someone else, who cannot withdraw another's vote), redeliveries, and
// acts arriving late with an older timestamp. After every step the
// standing counters, the recount and an independent model agree.
func TestChannelsModel(t *testing.T) {
	voters := []id.UserID{Ana, Ben, Chi, Dan, "@eve:test"}
	h := newPollHarness(t, voters...)
	notice, poll := openPolled(t, h, "!motion Pay the rent")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 4))
	type act struct {
		voter     id.UserID
		choice    string // yes, no, abstain, or "" (withdraws)
		ts        time.Time
		seq       int
		event     id.EventID
		withdrawn bool
	}
	var acts []*act
	model := func() Tally {
		var tl Tally
		for _, v := range voters {
			var best *act
			for _, a := range acts {
				if a.voter == v && !a.withdrawn && (best == nil || a.ts.After(best.ts) || a.ts.Equal(best.ts) && a.seq > best.seq) {
					best = a
				}
			}
			if best != nil {
				tl.Add(Choice(best.choice), 1)
			}
		}
		return tl
	}
	keys := map[string][]string{"yes": {"👍", "👍🏽"}, "no": {"👎"}, "abstain": {"🤷"}}
	for step := range 600 {
		h.Clock.Advance(time.Duration(rng.IntN(3)) * time.Millisecond) // equal timestamps too
		at := h.Clock.Now()
		if rng.IntN(8) == 0 {
			at = at.Add(-time.Duration(rng.IntN(20)) * time.Millisecond) // a late delivery
		}
		voter := voters[rng.IntN(len(voters))]
		choice := []string{"yes", "no", "abstain"}[rng.IntN(3)]
		evt := h.NextEvent()
		record := func(c string) {
			acts = append(acts, &act{voter: voter, choice: c, ts: at, seq: step, event: evt})
		}
		var err error
		switch r := rng.IntN(12); {
		case r < 3: // a reaction
			err = h.A.HandleReaction(ctx, commands.Reaction{Room: Room, Sender: voter, Event: evt, Target: notice.EventID, Key: keys[choice][rng.IntN(len(keys[choice]))], Time: at})
			record(choice)
		case r < 4: // a reaction that is no vote
			err = h.A.HandleReaction(ctx, commands.Reaction{Room: Room, Sender: voter, Event: evt, Target: notice.EventID, Key: "🎉", Time: at})
		case r < 7: // a poll answer
			err = h.A.HandlePollResponse(ctx, commands.PollResponse{Room: Room, Sender: voter, Event: evt, Target: poll.EventID, Answers: []string{choice}, Time: at})
			record(choice)
		case r < 8: // an empty or unknown poll answer: withdraws
			answers := [][]string{nil, {"maybe"}, {""}}[rng.IntN(3)]
			err = h.A.HandlePollResponse(ctx, commands.PollResponse{Room: Room, Sender: voter, Event: evt, Target: poll.EventID, Answers: answers, Time: at})
			record("")
		case r < 9: // !vote
			_, err = h.A.HandleMessage(ctx, commands.Message{Room: Room, Sender: voter, Event: evt, Time: at, Body: "!vote 1 " + choice})
			record(choice)
		case r < 11 && len(acts) > 0: // a redaction, by the voter or by someone else
			a := acts[len(acts)-1-rng.IntN(min(len(acts), 6))]
			by := a.voter
			if rng.IntN(4) == 0 {
				by = voters[rng.IntN(len(voters))]
			}
			if by == a.voter && !at.After(h.Clock.Now()) {
				a.withdrawn = true
			}
			err = h.A.HandleRedaction(ctx, commands.Redaction{Room: Room, Sender: by, Event: evt, Redacts: a.event, Time: at})
		default: // a redelivery of an earlier act
			if len(acts) > 0 {
				a := acts[rng.IntN(len(acts))]
				err = h.A.HandlePollResponse(ctx, commands.PollResponse{Room: Room, Sender: a.voter, Event: a.event, Target: poll.EventID, Answers: []string{"yes"}, Time: at})
			}
		}
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		h.Drain()
		m, _, err := h.Env.Store.Motions().ByNumber(ctx, Room, 1)
		if err != nil {
			t.Fatal(err)
		}
		y, n, a, err := h.Env.Store.Votes().Recount(ctx, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := model()
		if got := (Tally{m.Yes, m.No, m.Abstain}); got != want || (Tally{y, n, a}) != want || m.Status != "open" {
			t.Fatalf("step %d: counters %+v, recount %d/%d/%d, model %+v, status %s", step, got, y, n, a, want, m.Status)
		}
	}
}
