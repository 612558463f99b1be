package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/store"
	"quorum/testkit"
)

// TestPollVotes: a motion opens a native poll beside its notice. Members
// vote by encrypted poll answers (ben changes his) and by encrypted
// reactions; chi and ana switch channels while the bot is down, and each
// counts once, as their latest act. The homeserver stores every answer as
// m.room.encrypted: it sees which poll was answered (the relation is in the
// clear), not the answer, while an encrypted reaction's emoji is in the
// clear. The bot restarts twice; at the deadline it posts the result and
// ends the poll, referring to it, with the result; nothing is counted
// twice.
func TestPollVotes(t *testing.T) {
	t.Parallel()
	s, b, clock := clockedBot(t)
	r, cs := assembly(t, s, b, "ana", "ben", "chi", "dan")
	ana, ben, chi, dan := cs[0], cs[1], cs[2], cs[3] // dan does not vote
	botID := b.Client().UserID

	ana.Say(r, "!motion --quorum 2 --closes 1h Buy a new banner")
	notice := findNotice(ana, r, botID, "Motion #1")
	if body := notice.Content.AsMessage().Body; !strings.Contains(body, "Vote in the poll below") {
		t.Errorf("the notice does not point to the poll:\n%s", body)
	}
	poll := waitPoll(ana, r, botID, "the motion's poll")
	if poll.Mautrix.EventSource&event.SourceDecrypted == 0 {
		t.Error("the poll was not sent encrypted")
	}
	parsed, _ := poll.Content.Parsed.(*event.PollStartEventContent)
	if parsed == nil {
		t.Fatalf("the poll's content is %T", poll.Content.Parsed)
	}
	start := parsed.PollStart
	if start.MaxSelections != 1 || start.Kind != "org.matrix.msc3381.poll.undisclosed" || len(start.Answers) != 3 ||
		start.Answers[0].ID != "yes" || start.Answers[1].ID != "no" || start.Answers[2].ID != "abstain" {
		t.Errorf("poll.start = %+v", start)
	}
	if f, _ := poll.Content.Raw["quorum.motion"].(map[string]any); f["id"] != 1.0 {
		t.Errorf("the poll's quorum.motion = %v", poll.Content.Raw["quorum.motion"])
	}
	answer := func(c *testkit.Client, choice ...string) id.EventID { return answerPoll(c, r, poll.ID, choice...) }
	tallied := func(what, tally string) {
		t.Helper()
		ana.WaitFor(wait, what, func(evt *event.Event) bool { return isEditOf(evt, notice.ID, tally) })
	}

	anaYes := answer(ana, "yes")
	answer(ben, "no")
	answer(ben, "yes") // ben changes his answer
	tallied("two yes by poll", "2 yes · 0 no · 0 abstain — 2 of 4 voted")
	chiNo := chi.React(r, notice.ID, "👎", true)
	tallied("chi's no by reaction", "2 yes · 1 no · 0 abstain — 3 of 4 voted")

	// What the homeserver holds: the answer's type and content are
	// encrypted, its relation to the poll is not; an encrypted reaction
	// keeps its emoji in the clear.
	stored, err := dan.GetEvent(context.Background(), r, anaYes)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Type != event.EventEncrypted {
		t.Errorf("the homeserver stores a poll answer as %s, want m.room.encrypted", stored.Type.Type)
	}
	rel, _ := stored.Content.Raw["m.relates_to"].(map[string]any)
	if rel["event_id"] != poll.ID.String() || rel["rel_type"] != "m.reference" {
		t.Errorf("the stored answer's relation = %v; the homeserver should see which poll it answers", rel)
	}
	if raw := stored.Content.VeryRaw; strings.Contains(string(raw), `"yes"`) || strings.Contains(string(raw), "poll.response") {
		t.Errorf("the homeserver can read the answer: %s", raw)
	}
	storedRx, err := dan.GetEvent(context.Background(), r, chiNo)
	if err != nil {
		t.Fatal(err)
	}
	if rel, _ := storedRx.Content.Raw["m.relates_to"].(map[string]any); storedRx.Type != event.EventEncrypted || rel["key"] != "👎" {
		t.Errorf("an encrypted reaction is stored as %s with relation %v; its emoji was expected in the clear", storedRx.Type.Type, rel)
	}

	// Both switch channels while the bot is down: chi to the poll, ana to
	// a reaction. Each has one vote, the latest.
	b.Stop()
	answer(chi, "abstain")
	ana.React(r, notice.ID, "👎", true)
	time.Sleep(time.Second) // let the homeserver stamp them well before the restart
	b.Start()
	tallied("the switched votes", "1 yes · 1 no · 1 abstain — 3 of 4 voted")

	// The relation a member encrypted is the one that counts: dan's answer,
	// whose relation is only in the clear (as older clients send it, or as
	// a homeserver could have put it), is not a vote; ben's, whose clear
	// relation the homeserver pointed at the notice, counts on the poll.
	dan.SendRelation(r, event.EventUnstablePollResponse, &event.PollResponseEventContent{
		Response: event.PollResponse{Answers: []string{"yes"}},
	}, &event.RelatesTo{Type: event.RelReference, EventID: poll.ID})
	ben.SendRelation(r, event.EventUnstablePollResponse, &event.PollResponseEventContent{
		RelatesTo: event.RelatesTo{Type: event.RelReference, EventID: poll.ID},
		Response:  event.PollResponse{Answers: []string{"no"}},
	}, &event.RelatesTo{Type: event.RelReference, EventID: notice.ID})
	tallied("ben's no, not dan's yes", "0 yes · 2 no · 1 abstain — 3 of 4 voted")

	// Restart again, then let the deadline pass.
	b.Stop()
	b.Start()
	clock.Advance(2 * time.Hour)
	b.Wake()
	result := findNotice(ana, r, botID, "Motion #1: Failed")
	if got := result.Content.AsMessage().Body; !strings.Contains(got, "Failed 0–2, 1 abstention; 3 of 4 voted, quorum 2") {
		t.Errorf("result = %q", got)
	}
	end := ana.WaitFor(wait, "the poll's end", func(evt *event.Event) bool {
		return evt.RoomID == r && evt.Sender == botID && evt.Type == event.EventUnstablePollEnd
	})
	if end.Mautrix.EventSource&event.SourceDecrypted == 0 {
		t.Error("the poll's end was not sent encrypted")
	}
	if rel, _ := end.Content.Raw["m.relates_to"].(map[string]any); rel["event_id"] != poll.ID.String() || rel["rel_type"] != "m.reference" {
		t.Errorf("the poll's end refers to %v, want the poll", rel)
	}
	if text, _ := end.Content.Raw["org.matrix.msc1767.text"].(string); !strings.HasPrefix(text, "Official result (counting reactions, poll answers and !vote): ") ||
		!strings.Contains(text, "Failed 0–2, 1 abstention") {
		t.Errorf("the poll's end says %q", text)
	}
	if got, _ := end.Content.Raw["org.matrix.msc3381.poll.results"].(map[string]any); got["yes"] != 0.0 || got["no"] != 2.0 || got["abstain"] != 1.0 {
		t.Errorf("the poll's end's results: %v", got)
	}
	if _, ok := end.Content.Raw["org.matrix.msc3381.poll.end"]; !ok {
		t.Errorf("no poll.end in %v", end.Content.Raw)
	}

	// Every act was recorded once, and the poll never edited.
	b.Stop()
	st, err := store.Open(context.Background(), b.Config.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var acts int
	if err := st.DB.QueryRow(context.Background(), "SELECT count(*) FROM vote_acts").Scan(&acts); err != nil {
		t.Fatal(err)
	}
	if acts != 7 {
		t.Errorf("%d acts recorded, want 7 (ana 2, ben 3, chi 2)", acts)
	}
	for _, evt := range ana.Events() {
		if evt.Type == event.EventUnstablePollStart && evt.ID != poll.ID {
			t.Errorf("a second poll was sent: %s", evt.ID)
		}
		if evt.Content.Raw != nil {
			if rel, _ := evt.Content.Raw["m.relates_to"].(map[string]any); rel["rel_type"] == "m.replace" && rel["event_id"] == poll.ID.String() {
				t.Error("the poll was edited")
			}
		}
	}
}

// TestPollSettle: two members vote by poll answers; once both have, the
// motion closes after the settle time, not at once. One changes her answer
// within it, the bot restarts within it, and the change counts; the bot
// then posts the result and ends the poll.
func TestPollSettle(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Config.Motions.Settle = "30s"
	clock := &testkit.Clock{}
	b.Opts.Clock = clock
	b.Start()
	r, cs := assembly(t, s, b, "ana", "ben")
	ana, ben := cs[0], cs[1]
	botID := b.Client().UserID

	ana.Say(r, "!motion Buy a new banner")
	notice := findNotice(ana, r, botID, "Motion #1")
	poll := waitPoll(ana, r, botID, "the motion's poll")
	answer := func(c *testkit.Client, choice string) { answerPoll(c, r, poll.ID, choice) }
	answer(ana, "no")
	answer(ben, "yes")
	ana.WaitFor(wait, "the settle time on the notice", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "Everyone has voted: it closes at")
	})
	answer(ana, "yes") // she tapped the wrong answer
	ana.WaitFor(wait, "ana's change", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "2 yes · 0 no · 0 abstain — 2 of 2 voted")
	})
	if n := len(ana.Notices(r, botID, "Motion #1: ")); n != 0 {
		t.Fatal("the motion closed within the settle time")
	}
	b.Stop()
	b.Start()
	clock.Advance(31 * time.Second)
	b.Wake()
	result := findNotice(ana, r, botID, "Motion #1: Carried")
	if got := result.Content.AsMessage().Body; !strings.Contains(got, "Carried 2–0, 0 abstentions; 2 of 2 voted") {
		t.Errorf("result = %q", got)
	}
	end := ana.WaitFor(wait, "the poll's end", func(evt *event.Event) bool {
		return evt.RoomID == r && evt.Sender == botID && evt.Type == event.EventUnstablePollEnd
	})
	if rel, _ := end.Content.Raw["m.relates_to"].(map[string]any); rel["event_id"] != poll.ID.String() {
		t.Errorf("the poll's end refers to %v", rel)
	}
}

// TestQuestionPollEndToEnd: `!poll` with three answers, answered by
// encrypted poll answers from three members, two of them sent while the bot
// is down (one a change); the count is right after the restart, and the
// author's `!close` posts the result and ends the poll; nothing is counted
// twice.
func TestQuestionPollEndToEnd(t *testing.T) {
	t.Parallel()
	_, b, r, cs := startAssembly(t, "ana", "ben", "chi")
	ana, ben, chi := cs[0], cs[1], cs[2]
	botID := b.Client().UserID

	ana.Say(r, "!poll Which evening suits you? : Monday | Wednesday | Thursday")
	notice := findNotice(ana, r, botID, "Poll #1")
	poll := waitPoll(ana, r, botID, "the question's poll")
	answer := func(c *testkit.Client, choice string) { answerPoll(c, r, poll.ID, choice) }
	answer(ana, "1")
	answer(ben, "2")
	ana.WaitFor(wait, "the count", func(evt *event.Event) bool { return isEditOf(evt, notice.ID, "2 of 3 answered") })
	b.Stop()
	answer(chi, "3")
	answer(ben, "1") // ben changes his answer while the bot is down
	time.Sleep(time.Second)
	b.Start()
	ana.WaitFor(wait, "the count after the restart", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "1. Monday — 2") && isEditOf(evt, notice.ID, "2. Wednesday — 0") && isEditOf(evt, notice.ID, "3 of 3 answered")
	})
	b.Stop()
	b.Start()
	ana.Say(r, "!close 1")
	result := findNotice(ana, r, botID, "Poll #1 closed")
	if got := result.Content.AsMessage().Body; !strings.Contains(got, "Monday 2 · Wednesday 0 · Thursday 1 — 3 of 3 answered.") {
		t.Errorf("result = %q", got)
	}
	if f, _ := result.Content.Raw["quorum.poll"].(map[string]any); f["status"] != "closed" || f["voted"] != 3.0 {
		t.Errorf("result quorum.poll = %v", f)
	}
	end := ana.WaitFor(wait, "the poll's end", func(evt *event.Event) bool {
		return evt.RoomID == r && evt.Sender == botID && evt.Type == event.EventUnstablePollEnd
	})
	if rel, _ := end.Content.Raw["m.relates_to"].(map[string]any); rel["event_id"] != poll.ID.String() {
		t.Errorf("the poll's end refers to %v", rel)
	}
	b.Stop()
	st, err := store.Open(context.Background(), b.Config.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var acts int
	if err := st.DB.QueryRow(context.Background(), "SELECT count(*) FROM poll_acts").Scan(&acts); err != nil {
		t.Fatal(err)
	}
	if acts != 4 {
		t.Errorf("%d answers recorded, want 4", acts)
	}
}

// TestTimePollEndToEnd: a study session's time asked in a poll; two
// members answer (one of them while the bot is down); at the decision time
// the session is scheduled at the time both can come to, announced as any
// session.
func TestTimePollEndToEnd(t *testing.T) {
	t.Parallel()
	s, b, clock := clockedBot(t)
	r, cs := assembly(t, s, b, "ana", "ben")
	ana, ben := cs[0], cs[1]
	botID := b.Client().UserID

	ana.Say(r, "!study new Reading circle at friday 18:00 | saturday 11:00 --decide 1h")
	notice := findNotice(ana, r, botID, "When can you come to Reading circle?")
	poll := waitPoll(ana, r, botID, "the time poll")
	parsed, _ := poll.Content.Parsed.(*event.PollStartEventContent)
	if parsed == nil || len(parsed.PollStart.Answers) != 2 || parsed.PollStart.MaxSelections != 2 {
		t.Fatalf("poll.start = %+v", poll.Content.Raw)
	}
	saturday := parsed.PollStart.Answers[1].GetText()
	answer := func(c *testkit.Client, choice ...string) { answerPoll(c, r, poll.ID, choice...) }
	answer(ana, "1", "2")
	ana.WaitFor(wait, "ana's answer counted", func(evt *event.Event) bool { return isEditOf(evt, notice.ID, "1 of 2 answered") })
	b.Stop()
	answer(ben, "2")
	time.Sleep(time.Second)
	b.Start()
	clock.Advance(time.Hour + time.Minute)
	b.Wake()
	ann := findNotice(ana, r, botID, "Study session #1: Reading circle")
	if body := ann.Content.AsMessage().Body; !strings.Contains(body, "When: "+saturday) {
		t.Errorf("the session was not scheduled at %s, the time both can come to:\n%s", saturday, body)
	}
	if n := len(ana.Notices(r, botID, "Study session #1: Reading circle")); n != 1 {
		t.Errorf("announced %d times", n)
	}
}

// waitPoll waits for the bot's next poll in room r.
func waitPoll(c *testkit.Client, r id.RoomID, botID id.UserID, what string) *event.Event {
	return c.WaitFor(wait, what, func(evt *event.Event) bool {
		return evt.RoomID == r && evt.Sender == botID && evt.Type == event.EventUnstablePollStart
	})
}

// answerPoll answers poll in r with the answers' IDs, encrypted.
func answerPoll(c *testkit.Client, r id.RoomID, poll id.EventID, answers ...string) id.EventID {
	return c.SendContent(r, event.EventUnstablePollResponse, &event.PollResponseEventContent{
		RelatesTo: event.RelatesTo{Type: event.RelReference, EventID: poll},
		Response:  event.PollResponse{Answers: answers},
	})
}
