package motions

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// Questions (`!poll`): a plain question put to the room, not a decision,
// answered in a native poll and counted by the bot under the electorate's
// rules (members of the room when it opened, the latest answer counts, an
// answer choosing nothing withdraws). Polls share the motions' numbering,
// so `!close N` and `!motions` cover both. A question's result is no
// decision: it goes into no record.

// Anchor kinds: the notice showing the live count, and the poll.
const (
	anchorQuestion     = "question"
	anchorQuestionPoll = "question.poll"
)

// Bounds of a question.
const (
	minAnswers   = 2
	maxAnswers   = 20
	maxQuestion  = 500
	maxAnswerLen = 200
)

func (f *Feature) pollCommand() *commands.Command {
	return &commands.Command{
		Name:    "poll",
		Usage:   "poll [--closes WHEN] [--multiple N] <question> : <answer> | <answer> | …",
		Summary: "ask the room a question with 2 to 20 answers, answered in a poll",
		Help: "Members answer in the poll I post (Element and most clients show it as buttons); their latest answer counts, " +
			"and only the members of the room when it opened can answer. `--multiple N` lets each choose up to N answers. " +
			"It closes at `--closes` (after the room's default voting time otherwise) or with `close N`; it is a question, not a decision, so it goes into no record.",
		Examples: []string{
			"poll Which evening suits you? : Monday | Wednesday | Thursday",
			"poll --closes friday 18:00 --multiple 2 Which topics next? : Housing | Wages | History",
		},
		Handler: f.poll,
	}
}

// answersSep is the colon between the question and its answers: one
// followed by a space (so a time such as 18:00 stays in the question).
var answersSep = regexp.MustCompile(`:(\s|$)`)

func (f *Feature) poll(ctx context.Context, r *commands.Request) error {
	now, loc := r.Clock.Now(), r.Location()
	d := r.Config.MotionDefaults(r.Room)
	closes, dur, err := deadline(d.Closes, now, loc)
	if err != nil {
		return fmt.Errorf("config motions.closes: %w", err)
	}
	multiple := 1
	words := strings.Fields(r.Args)
	var text []string
	inAnswers := false // options stand before the answers; after, a dash is text
	for i := 0; i < len(words); {
		name, value, hasValue, isOption := commands.Option(words[i])
		if !isOption || inAnswers {
			text = append(text, words[i])
			inAnswers = inAnswers || strings.HasSuffix(words[i], ":")
			i++
			continue
		}
		rest := words[i+1:]
		used := 0
		switch name {
		case "closes":
			if hasValue {
				closes, dur, err = deadline(value, now, loc)
			} else {
				closes, dur, used, err = longestDeadline(rest, now, loc)
			}
		case "multiple":
			if !hasValue && len(rest) > 0 {
				value, used = rest[0], 1
			}
			n, ok := commands.ParseNumber(value)
			if !ok {
				// not for members to translate: a command, the same in every language
				return commands.Refusef("`--multiple` needs how many answers each member may choose, for example `%s`.", r.Cmd("poll --multiple 2 Which topics? : Housing | Wages | History"))
			}
			multiple = n
		default:
			return commands.Refusef("I don't know the option `--%s`. Options: `--closes`, `--multiple`.", name)
		}
		if err != nil {
			return err
		}
		i += 1 + used
	}
	question, answers, err := splitQuestion(r, strings.Join(text, " "))
	if err != nil {
		return err
	}
	if multiple < 1 || multiple > len(answers) {
		return commands.Refusef("`--multiple` must be from 1 to the number of answers (%d).", len(answers))
	}
	if dur > 0 {
		closes = now.Add(dur)
	}
	if !closes.After(now) {
		return commands.Refusef("The poll would close %s, which has passed.", timespec.Human(closes, loc))
	}
	_, err = f.Ask(ctx, &r.Effects, Question{Room: r.Room, Creator: r.Sender, Text: question, Answers: answers, Multiple: multiple, ClosesAt: closes})
	return err
}

// Question is a poll to ask the room: `!poll`'s, or another feature's (a
// study session's times), which names its Kind and decides with the
// function it gave OnClose when the poll closes. Payload is its own JSON.
type Question struct {
	Room     id.RoomID
	Creator  id.UserID
	Text     string
	Answers  []string
	Multiple int
	ClosesAt time.Time
	Kind     string
	Payload  string
}

// Closed decides what a closed poll of another feature's kind decided,
// from the votes of each answer ID (AnswerID), in the closing transaction.
type Closed func(ctx context.Context, fx *commands.Effects, p *store.Poll, votes map[string]int) error

// OnClose makes fn decide the polls of kind when they close.
func (f *Feature) OnClose(kind string, fn Closed) { f.closers[kind] = fn }

// Ask opens a poll: its notice, with the count, and the poll itself. The
// electorate is the room's members now.
func (f *Feature) Ask(ctx context.Context, fx *commands.Effects, q Question) (*store.Poll, error) {
	electorate, err := f.electorate(ctx, q.Room)
	if err != nil {
		return nil, err
	}
	p := &store.Poll{Room: q.Room, Creator: q.Creator, Question: q.Text, Answers: q.Answers, Multiple: q.Multiple,
		CreatedAt: f.Clock.Now(), ClosesAt: q.ClosesAt, Kind: q.Kind, Payload: q.Payload}
	if err := f.Store.Polls().Create(ctx, p, electorate); err != nil {
		return nil, err
	}
	notice, err := f.questionNotice(ctx, p)
	if err != nil {
		return nil, err
	}
	fx.Say(q.Room, notice)
	lang, err := f.Lang(ctx, q.Room)
	if err != nil {
		return nil, err
	}
	fx.Event(q.Room, f.questionPollStart(p, lang))
	return p, nil
}

// splitQuestion reads `<question> : <answer> | <answer> | …`.
func splitQuestion(r *commands.Request, text string) (string, []string, error) {
	// not for members to translate: a command, the same in every language
	example := r.Cmd("poll Which evening suits you? : Monday | Wednesday | Thursday")
	loc := answersSep.FindStringIndex(text)
	if loc == nil {
		return "", nil, commands.Refusef("Write the question, a colon, then the answers separated by `|`, for example `%s`.", example)
	}
	question := strings.TrimSpace(text[:loc[0]])
	if question == "" {
		return "", nil, commands.Refusef("What is the question? For example `%s`.", example)
	}
	if len(question) > maxQuestion {
		return "", nil, commands.Refusef("That question is %d characters long; the limit is %d.", len(question), maxQuestion)
	}
	var answers []string
	for a := range strings.SplitSeq(text[loc[1]:], "|") {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
			continue
		case len(a) > maxAnswerLen:
			return "", nil, commands.Refusef("An answer is %d characters long; the limit is %d.", len(a), maxAnswerLen)
		case slices.ContainsFunc(answers, func(b string) bool { return strings.EqualFold(a, b) }):
			return "", nil, commands.Refusef("The answer %q is there twice.", a)
		}
		answers = append(answers, a)
	}
	if len(answers) < minAnswers || len(answers) > maxAnswers {
		return "", nil, commands.Refusef("A poll needs from %d to %d answers separated by `|` (I read %d), for example `%s`.", minAnswers, maxAnswers, len(answers), example)
	}
	return question, answers, nil
}

// AnswerID is the ID of answer i (from 0) in a poll.
func AnswerID(i int) string { return strconv.Itoa(i + 1) }

func answerID(i int) string { return AnswerID(i) }

// questionField is the content of quorum.poll.
func questionField(p *store.Poll, votes map[string]int, voted, electorate int) map[string]any {
	answers := make([]any, len(p.Answers))
	for i, a := range p.Answers {
		answers[i] = map[string]any{"id": answerID(i), "text": a, "votes": votes[answerID(i)]}
	}
	return map[string]any{
		"id":         p.Number,
		"question":   p.Question,
		"status":     p.Status,
		"answers":    answers,
		"multiple":   p.Multiple,
		"voted":      voted,
		"electorate": electorate,
		"closes_at":  p.ClosesAt.UTC().Format(time.RFC3339),
	}
}

// questionNotice is the notice of a poll: the question, the count so far
// or the result.
func (f *Feature) questionNotice(ctx context.Context, p *store.Poll) (msg.Message, error) {
	votes, voted, err := f.Store.Polls().Count(ctx, p.ID)
	if err != nil {
		return msg.Message{}, err
	}
	electorate, err := f.Store.Polls().ElectorateSize(ctx, p.ID)
	if err != nil {
		return msg.Message{}, err
	}
	out := msg.F("**Poll #%d** (%s): %s", p.Number, msg.Pill(p.Creator), p.Question)
	for i, a := range p.Answers {
		out = out.Append("%d. %s — %d", i+1, a, votes[answerID(i)])
	}
	loc := f.Config.Location(p.Room)
	if p.Status == store.PollOpen {
		choose := msg.N(p.Multiple, "one answer", "up to %d answers")
		out = out.Append("Answer in the poll below (%s) · %d of %d answered · closes %s (in %s)", choose, voted, electorate,
			timespec.Human(p.ClosesAt, loc), timespec.Remaining(p.ClosesAt.Sub(f.Clock.Now())))
	} else {
		out = out.Append("Closed: %d of %d answered.", voted, electorate)
	}
	out.Anchor = &msg.Anchor{Kind: anchorQuestion, Ref: p.ID}
	return out.With("quorum.poll", questionField(p, votes, voted, electorate)), nil
}

// questionPollStart is the MSC3381 poll of question p, written in lang
// (the room's language).
func (f *Feature) questionPollStart(p *store.Poll, lang string) msg.Event {
	question := msg.Safe(msg.T("Poll #%d: %s", p.Number, p.Question).In(lang))
	kind := pollKindUndisclosed
	if f.Config.Motions.PollKind == "disclosed" {
		kind = pollKindDisclosed
	}
	answers := make([]any, len(p.Answers))
	fallback := question
	for i, a := range p.Answers {
		answer := text1767(msg.Safe(a))
		answer["id"] = answerID(i)
		answers[i] = answer
		fallback += fmt.Sprintf("\n%d. %s", i+1, msg.Safe(a))
	}
	q := text1767(question)
	q["body"], q["msgtype"] = question, "m.text"
	return msg.Event{
		Type: PollStartType,
		Content: map[string]any{
			"org.matrix.msc3381.poll.start": map[string]any{
				"kind":           kind,
				"max_selections": p.Multiple,
				"question":       q,
				"answers":        answers,
			},
			"org.matrix.msc1767.text": fallback,
			"m.mentions":              map[string]any{},
			"quorum.poll":             map[string]any{"id": p.Number},
		},
		Anchor: &msg.Anchor{Kind: anchorQuestionPoll, Ref: p.ID},
	}
}

// answer is an answer to a question's poll. Only the first max_selections
// answers are looked at; one that chooses nothing, or something the poll
// does not offer, withdraws the member's answer (MSC3381).
func (f *Feature) answer(ctx context.Context, fx *commands.Effects, ref int64, pr commands.PollResponse) error {
	st := f.Store
	p, ok, err := st.Polls().Get(ctx, ref)
	if err != nil || !ok {
		return err
	}
	// A refused answer changes nothing; its member is told why, once.
	refuse := func(why msg.Text) error {
		if first, err := st.Polls().TellOnce(ctx, p.ID, pr.Sender); err != nil || !first {
			return err
		}
		fx.DM(pr.Sender, msg.FromText(why))
		return nil
	}
	if p.Status != store.PollOpen || pr.Time.After(p.ClosesAt) {
		return refuse(msg.T("Poll #%d is closed, so your answer was not counted.", p.Number))
	}
	if in, err := st.Polls().InElectorate(ctx, p.ID, pr.Sender); err != nil {
		return err
	} else if !in {
		return refuse(msg.T("Your answer to poll #%d was not counted: only the members of the room when it opened can answer it.", p.Number))
	}
	fresh, err := st.Polls().Answer(ctx, store.PollAct{Poll: p.ID, Voter: pr.Sender, Answers: chosen(p, pr.Answers), Event: pr.Event, Time: pr.Time})
	if err != nil || !fresh {
		return err
	}
	return st.Edits().Schedule(ctx, anchorQuestion, p.ID, f.Clock.Now(), editInterval)
}

// chosen reads a response's answer IDs: the first Multiple, each once;
// none if any of them is not the poll's.
func chosen(p *store.Poll, answers []string) []string {
	var out []string
	for _, a := range answers[:min(len(answers), p.Multiple)] {
		n, err := strconv.Atoi(a)
		if err != nil || n < 1 || n > len(p.Answers) || answerID(n-1) != a {
			return nil
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// questionRedaction withdraws a redacted answer while the poll is open.
func (f *Feature) questionRedaction(ctx context.Context, fx *commands.Effects, rd commands.Redaction) (bool, error) {
	st := f.Store
	act, found, err := st.Polls().Act(ctx, rd.Redacts)
	if err != nil || !found {
		return false, err
	}
	p, ok, err := st.Polls().Get(ctx, act.Poll)
	if err != nil || !ok {
		return true, err
	}
	if p.Room != rd.Room || p.Status != store.PollOpen || rd.Time.After(p.ClosesAt) || rd.Sender != act.Voter {
		return true, nil
	}
	if err := st.Polls().Withdraw(ctx, rd.Redacts); err != nil {
		return true, err
	}
	fx.DM(act.Voter, msg.F("Your answer to poll #%d was deleted, so I no longer count it. "+
		"If you did not delete it, answer again and tell the room: whoever runs the homeserver can delete in your name.", p.Number))
	return true, st.Edits().Schedule(ctx, anchorQuestion, p.ID, f.Clock.Now(), editInterval)
}

// editQuestion edits the notice of open poll id to show the count.
func (f *Feature) editQuestion(ctx context.Context, fx *commands.Effects, pollID int64) error {
	p, ok, err := f.Store.Polls().Get(ctx, pollID)
	if err != nil || !ok || p.Status != store.PollOpen {
		return err
	}
	notice, err := f.questionNotice(ctx, p)
	notice.Edit, notice.Anchor = notice.Anchor, nil
	fx.Say(p.Room, notice)
	return err
}

// closeQuestion closes poll p now: the result as a reply, the notice's
// final edit, and the poll's end.
func (f *Feature) closeQuestion(ctx context.Context, fx *commands.Effects, p *store.Poll, now time.Time) error {
	if err := f.Store.Polls().Close(ctx, p.ID, now); err != nil {
		return err
	}
	p.Status, p.ClosedAt = store.PollClosed, now
	if err := f.Store.Edits().Cancel(ctx, anchorQuestion, p.ID); err != nil {
		return err
	}
	notice, err := f.questionNotice(ctx, p)
	if err != nil {
		return err
	}
	field := notice.Fields["quorum.poll"].(map[string]any)
	answers := field["answers"].([]any)
	parts := make([]string, len(answers))
	counts := make(map[string]any, len(answers))
	for i, a := range answers {
		a := a.(map[string]any)
		parts[i] = fmt.Sprintf("%s %d", a["text"], a["votes"])
		counts[a["id"].(string)] = a["votes"]
	}
	result := msg.F("Poll #%d closed (%s): %s — %d of %d answered.", p.Number, p.Question, strings.Join(parts, " · "), field["voted"], field["electorate"]).
		With("quorum.poll", field)
	result.ReplyToAnchor = &msg.Anchor{Kind: anchorQuestion, Ref: p.ID}
	fx.Say(p.Room, result)
	notice.Edit, notice.Anchor = notice.Anchor, nil
	fx.Say(p.Room, notice)
	// Clients show their own count once the poll ends, which takes in
	// answers the rules leave out (late ones, from members who joined
	// later): say which count is the official one, as for a motion, in the
	// room's language (an event is not a message, rendered when sent).
	lang, err := f.Lang(ctx, p.Room)
	if err != nil {
		return err
	}
	fx.Event(p.Room, msg.Event{
		Type: PollEndType,
		Content: map[string]any{
			"org.matrix.msc3381.poll.end": map[string]any{},
			"org.matrix.msc1767.text":     msg.Safe(msg.T("Official result: %s", result.Localize(lang).Body).In(lang)),
			"m.mentions":                  map[string]any{},
			"quorum.poll":                 field,
			PollResultsKey:                counts,
		},
		Reference: &msg.Anchor{Kind: anchorQuestionPoll, Ref: p.ID},
	})
	if decide, ok := f.closers[p.Kind]; ok {
		votes, _, err := f.Store.Polls().Count(ctx, p.ID)
		if err != nil {
			return err
		}
		return decide(ctx, fx, p, votes)
	}
	return nil
}

// closeQuestionNow is `!close N` on a poll: its creator or a moderator.
func (f *Feature) closeQuestionNow(ctx context.Context, r *commands.Request, p *store.Poll) error {
	if p.Status != store.PollOpen {
		return commands.Refusef("Poll #%d is already closed.", p.Number)
	}
	if p.Creator != r.Sender {
		moderator, err := r.Env.IsModerator(ctx, r.Room, r.Sender)
		if err != nil {
			return err
		}
		if !moderator {
			return commands.Refusef("Only the member who asked poll #%d or a room moderator can close it early.", p.Number)
		}
	}
	return f.closeQuestion(ctx, &r.Effects, p, r.Clock.Now())
}

// dueQuestions closes polls whose deadline passed, and returns when the
// next one is due.
func (f *Feature) dueQuestions(ctx context.Context, now time.Time) (time.Time, error) {
	closing, err := f.Store.Polls().DueToClose(ctx, now)
	if err != nil {
		return time.Time{}, err
	}
	err = commands.EachInTx(ctx, f.Env, closing, func(ctx context.Context, fx *commands.Effects, p *store.Poll) error {
		fx.From(p.Room) // what a closer DMs members (another feature's) is about p's room
		fresh, ok, err := f.Store.Polls().Get(ctx, p.ID)
		if err != nil || !ok || fresh.Status != store.PollOpen {
			return err
		}
		return f.closeQuestion(ctx, fx, fresh, now)
	})
	if err != nil {
		return time.Time{}, err
	}
	return f.Store.Polls().NextClose(ctx)
}

// questionLine is an open poll in `!motions`.
func (f *Feature) questionLine(ctx context.Context, p *store.Poll, now time.Time) (msg.Text, error) {
	_, voted, err := f.Store.Polls().Count(ctx, p.ID)
	if err != nil {
		return msg.Text{}, err
	}
	electorate, err := f.Store.Polls().ElectorateSize(ctx, p.ID)
	if err != nil {
		return msg.Text{}, err
	}
	return msg.T("#%d poll: %s — %d of %d answered, closes in %s", p.Number, shorten(p.Question), voted, electorate, timespec.Remaining(p.ClosesAt.Sub(now))), nil
}
