package motions

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

// questionFieldOf returns a message's quorum.poll, with JSON numbers made
// ints.
func questionFieldOf(t *testing.T, fields map[string]any) map[string]any {
	t.Helper()
	f, ok := fields["quorum.poll"].(map[string]any)
	if !ok {
		t.Fatalf("no quorum.poll in %v", fields)
	}
	for k, v := range f {
		if n, ok := v.(float64); ok {
			f[k] = int(n)
		}
	}
	return f
}

// votesOf lists the votes of each answer in a quorum.poll.
func votesOf(f map[string]any) []int {
	var out []int
	for _, a := range f["answers"].([]any) {
		switch v := a.(map[string]any)["votes"].(type) {
		case int:
			out = append(out, v)
		case float64:
			out = append(out, int(v))
		}
	}
	return out
}

// counts reads poll #n's count from the store.
func counts(t *testing.T, h *Harness, n int) ([]int, int) {
	t.Helper()
	ctx := context.Background()
	p, ok, err := h.Env.Store.Polls().ByNumber(ctx, Room, n)
	if err != nil || !ok {
		t.Fatalf("poll %d: %v %v", n, ok, err)
	}
	votes, voted, err := h.Env.Store.Polls().Count(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for i := range p.Answers {
		out = append(out, votes[answerID(i)])
	}
	return out, voted
}

func equalInts(a, b []int) bool { return slices.Equal(a, b) }

// TestQuestionPoll: `!poll` posts a notice with quorum.poll and a poll
// with the answers' IDs, numbered after the room's motions (and motions
// after it); answers count by the electorate's rules, the latest counts,
// a redacted one is withdrawn; `!motions` lists both in order; `!close N`
// closes it for its author, with the result, the notice's last edit and
// the poll's end.
func TestQuestionPoll(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	h.SendAndDrain(Ana, "!motion Pay the rent") // #1
	out := h.SendAndDrain(Ana, "!poll Which evening suits you? : Monday | Wednesday at 18:00 | Thursday")
	if len(out) != 2 || out[0].Kind != commands.KindMessage || out[1].Kind != commands.KindEvent {
		t.Fatalf("want a notice and a poll:%s", Bodies(out))
	}
	notice, poll := out[0], out[1]
	f := questionFieldOf(t, notice.Msg.Fields)
	if f["id"] != 2 || f["status"] != "open" || f["question"] != "Which evening suits you?" || f["electorate"] != 3 || f["multiple"] != 1 {
		t.Errorf("quorum.poll = %v", f)
	}
	if got := votesOf(f); !equalInts(got, []int{0, 0, 0}) {
		t.Errorf("votes %v", got)
	}
	if want := h.Clock.Now().Add(72 * time.Hour).UTC().Format(time.RFC3339); f["closes_at"] != want {
		t.Errorf("closes_at %v, want %s", f["closes_at"], want)
	}
	// Each answer on a line of its own, numbered from 1 (a "-1." would
	// hold "1." too).
	if !regexp.MustCompile("(?m)^1\\. Monday — 0\n2\\. Wednesday at 18:00 — 0\n3\\. Thursday — 0\nAnswer in the poll below \\(one answer\\) · 0 of 3 answered").MatchString(notice.Msg.Body) {
		t.Errorf("notice:\n%s", notice.Msg.Body)
	}
	start := poll.Ev.Content["org.matrix.msc3381.poll.start"].(map[string]any)
	answers := start["answers"].([]any)
	if len(answers) != 3 || answers[1].(map[string]any)["id"] != "2" || answers[1].(map[string]any)["org.matrix.msc1767.text"] != "Wednesday at 18:00" || start["max_selections"] != 1.0 {
		t.Errorf("poll.start = %v", start)
	}
	if start["kind"] != pollKindUndisclosed {
		t.Errorf("poll kind %v, want undisclosed (the default motions.poll_kind)", start["kind"])
	}
	if fallback, _ := poll.Ev.Content["org.matrix.msc1767.text"].(string); !strings.HasSuffix(fallback, "\n1. Monday\n2. Wednesday at 18:00\n3. Thursday") {
		t.Errorf("the poll's fallback text %q", fallback)
	}
	p := poll.EventID

	h.Respond(Ana, p, "1")
	h.Respond(Ben, p, "2")
	benThu := h.Respond(Ben, p, "3") // ben changes his answer
	h.Respond(Chi, p, "1")
	h.Respond(Chi, p, "9") // nothing the poll offers: chi withdraws
	if got, voted := counts(t, h, 2); !equalInts(got, []int{1, 0, 1}) || voted != 2 {
		t.Fatalf("counts %v, %d answered; want 1/0/1, 2", got, voted)
	}
	h.Redact(Ben, benThu) // ben's Wednesday stands again
	if got, _ := counts(t, h, 2); !equalInts(got, []int{1, 1, 0}) {
		t.Fatalf("after ben's redaction: %v", got)
	}
	if out := h.Drain(); len(out) != 1 || out[0].DMUser != Ben || !strings.Contains(out[0].Msg.Body, "Your answer to poll #2 was deleted") {
		t.Errorf("after ben's redaction:%s", Bodies(out))
	}
	// An outsider is told once, privately; the answer is not counted.
	eve := id.UserID("@eve:test")
	h.Rooms.Joined[Room] = append(h.Rooms.Joined[Room], eve)
	h.Respond(eve, p, "1")
	h.Respond(eve, p, "1")
	if out := h.Drain(); len(out) != 1 || out[0].DMUser != eve || !strings.Contains(out[0].Msg.Body, "only the members of the room when it opened") {
		t.Errorf("eve:%s", Bodies(out))
	}
	// The notice is edited with the count.
	h.Clock.Advance(time.Minute)
	edit := One(t, h.AdvanceTo(h.Clock.Now()), "Poll #2")
	if edit.Msg.Edit == nil || !equalInts(votesOf(questionFieldOf(t, edit.Msg.Fields)), []int{1, 1, 0}) {
		t.Errorf("edit %+v", edit.Msg)
	}
	// Answers alone bring the next edit (chi answers and withdraws again).
	h.Respond(Chi, p, "1")
	h.Respond(Chi, p, "9")
	h.Clock.Advance(time.Minute)
	edit = One(t, h.AdvanceTo(h.Clock.Now()), "Poll #2")
	if edit.Msg.Edit == nil || !equalInts(votesOf(questionFieldOf(t, edit.Msg.Fields)), []int{1, 1, 0}) {
		t.Errorf("edit after chi's answers %+v", edit.Msg)
	}

	// Motions and polls share the numbering and the list.
	h.SendAndDrain(Ana, "!motion Buy a banner") // #3
	list := h.Reply(Ana, "!motions")
	i1, i2, i3 := strings.Index(list, "#1 Pay"), strings.Index(list, "#2 poll: Which evening"), strings.Index(list, "#3 Buy")
	if i1 < 0 || i2 < i1 || i3 < i2 || !strings.Contains(list, "2 of 3 answered") {
		t.Errorf("!motions:\n%s", list)
	}

	Expect(t, h, Ben, "!close 2", "Only the member who asked poll #2 or a room moderator can close it early.")
	out = h.SendAndDrain(Ana, "!close 2")
	result := One(t, out, "Poll #2 closed")
	if !strings.Contains(result.Msg.Body, "Monday 1 · Wednesday at 18:00 1 · Thursday 0 — 2 of 3 answered.") || result.Msg.ReplyToAnchor == nil {
		t.Errorf("result %q", result.Msg.Body)
	}
	if f := questionFieldOf(t, result.Msg.Fields); f["status"] != "closed" {
		t.Errorf("result quorum.poll %v", f)
	}
	if last := One(t, out, "Poll #2 (@ana:test)"); last.Msg.Edit == nil || !strings.HasSuffix(last.Msg.Body, "\nClosed: 2 of 3 answered.") {
		t.Errorf("the notice's last edit %q", last.Msg.Body)
	}
	ends := Polls(out, PollEndType)
	if len(ends) != 1 || ends[0].Ev.Reference == nil || ends[0].Ev.Reference.Kind != anchorQuestionPoll {
		t.Errorf("poll end:%s", Bodies(out))
	}
	// A late answer is refused, privately, once.
	h.Respond(Chi, p, "2")
	h.Respond(Chi, p, "2")
	if out := h.Drain(); len(out) != 1 || out[0].DMUser != Chi || !strings.Contains(out[0].Msg.Body, "Poll #2 is closed") {
		t.Errorf("chi:%s", Bodies(out))
	}
	if got, _ := counts(t, h, 2); !equalInts(got, []int{1, 1, 0}) {
		t.Errorf("a late answer counted: %v", got)
	}
	Expect(t, h, Ana, "!close 2", "Poll #2 is already closed.")
}

// TestQuestionPollMultiple: with --multiple N a member chooses up to N
// answers (further ones are ignored, a repeated one counts once); the
// poll closes at its --closes deadline, also one that passed while the bot
// was down.
func TestQuestionPollMultiple(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	out := h.SendAndDrain(Ana, "!poll --closes 2h --multiple 2 Which topics next? : Housing | Wages | History")
	p := Polls(out, PollStartType)[0]
	if m := p.Ev.Content["org.matrix.msc3381.poll.start"].(map[string]any)["max_selections"]; m != 2.0 {
		t.Errorf("max_selections %v", m)
	}
	if next, want := h.Due(), h.Clock.Now().Add(2*time.Hour); !next.Equal(want) {
		t.Errorf("the scheduler is next due at %v, want the poll's close, %v", next, want)
	}
	h.Respond(Ana, p.EventID, "1", "2", "3")
	h.Respond(Ben, p.EventID, "3", "3")
	h.Respond(Chi, p.EventID, "2", "x") // an answer the poll does not offer spoils it
	if got, voted := counts(t, h, 1); !equalInts(got, []int{1, 1, 1}) || voted != 2 {
		t.Fatalf("counts %v, %d answered", got, voted)
	}
	out = h.AdvanceTo(h.Clock.Now().Add(2 * time.Hour))
	if r := One(t, out, "Poll #1 closed"); !strings.Contains(r.Msg.Body, "Housing 1 · Wages 1 · History 1 — 2 of 3 answered.") {
		t.Errorf("result %q", r.Msg.Body)
	}
	if len(Polls(out, PollEndType)) != 1 {
		t.Errorf("no poll end:%s", Bodies(out))
	}
}

func TestQuestionPollRefusals(t *testing.T) {
	h := newPollHarness(t, Ana, Ben)
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!poll Which evening?", Want: "Write the question, a colon, then the answers"},
		{From: Ana, Cmd: "!poll : Monday | Tuesday", Want: "What is the question?"},
		{From: Ana, Cmd: "!poll Which evening? : Monday", Want: "A poll needs from 2 to 20 answers separated by `|` (I read 1)"},
		{From: Ana, Cmd: "!poll Which? : " + manyAnswers(21), Want: "A poll needs from 2 to 20 answers separated by `|` (I read 21)"},
		{From: Ana, Cmd: "!poll Which? : Monday | monday", Want: `The answer "monday" is there twice.`},
		{From: Ana, Cmd: "!poll --multiple 3 Which? : Monday | Tuesday", Want: "`--multiple` must be from 1 to the number of answers (2)."},
		{From: Ana, Cmd: "!poll --multiple many Which? : Monday | Tuesday", Want: "`--multiple` needs how many answers"},
		{From: Ana, Cmd: "!poll --multiple", Want: "`--multiple` needs how many answers"},
		{From: Ana, Cmd: "!poll --secret Which? : Monday | Tuesday", Want: "I don't know the option `--secret`"},
		{From: Ana, Cmd: "!poll --closes 2026-11-01 Which? : Monday | Tuesday", Want: "has already passed"},
		{From: Ana, Cmd: "!poll Which? : Monday | " + strings.Repeat("x", maxAnswerLen+1), Want: "An answer is 201 characters long"},
	})
	if open, _ := h.Env.Store.Polls().Open(context.Background(), Room); len(open) != 0 {
		t.Errorf("refused polls were created: %d", len(open))
	}
	for _, cmd := range []string{"!poll Which? : " + manyAnswers(20), "!poll --multiple 2 Which? : Monday | Tuesday",
		"!poll " + strings.Repeat("q", maxQuestion) + " : Monday | Tuesday",
		"!poll --closes " + h.Clock.Now().Add(48*time.Hour).UTC().Format("2006-01-02T15:04") + " Which? : Monday | Tuesday"} {
		if out := h.SendAndDrain(Ana, cmd); len(Polls(out, PollStartType)) != 1 {
			t.Errorf("%s refused:%s", cmd, Bodies(out))
		}
	}
	// A dash after the colon is an answer, not an option.
	out := h.SendAndDrain(Ana, "!poll Which? : --multiple | -1")
	if f := questionFieldOf(t, out[0].Msg.Fields); len(votesOf(f)) != 2 {
		t.Errorf("answers %v", f["answers"])
	}
}

// manyAnswers is n distinct answers separated by |.
func manyAnswers(n int) string {
	var list []string
	for i := range n {
		list = append(list, "answer "+answerID(i))
	}
	return strings.Join(list, " | ")
}
