package motions

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// Native polls (MSC3381). An open motion that is not a secret ballot also
// opens a poll whose answers are yes, no and abstain: one tap on a phone,
// and, unlike a reaction's emoji, encrypted in an encrypted room (the
// homeserver sees who answered which poll, not the answer). An answer is an
// act of voting like a reaction or `!vote`, under the same rules: only the
// electorate, only while the motion is open, the latest act counts whatever
// its channel. The poll is never edited (clients would take an edited poll
// for a new one); the live tally stays on the notice, and the poll is ended
// with the result when the motion closes.

// anchorPoll is the anchor kind of a motion's poll: answers to it are votes.
const anchorPoll = "motion.poll"

// MSC3381's unstable event types and kinds, as Element and the other clients
// send them.
const (
	PollStartType = "org.matrix.msc3381.poll.start"
	PollEndType   = "org.matrix.msc3381.poll.end"
	// PollResultsKey is the poll end's block of counts by answer ID.
	PollResultsKey = "org.matrix.msc3381.poll.results"

	pollKindDisclosed   = "org.matrix.msc3381.poll.disclosed"
	pollKindUndisclosed = "org.matrix.msc3381.poll.undisclosed"
)

// Ballot channels, the values of motions.ballot.
const (
	ChannelReactions = "reactions"
	ChannelPoll      = "poll"
)

// maxSettle bounds motions.settle.
const maxSettle = 10 * time.Minute

// noChoice is the choice of a poll answer that selects nothing the poll
// offers: it withdraws the voter's vote.
const noChoice = Choice(store.NoChoice)

// pollAnswers are the answers of a motion's poll, in order; their IDs are
// the choices.
var pollAnswers = []struct {
	choice Choice
	text   msg.Text
}{{Yes, msg.T("Yes")}, {No, msg.T("No")}, {Abstain, msg.T("Abstain")}}

// text1767 is an MSC1767 text block.
func text1767(s string) map[string]any {
	return map[string]any{"org.matrix.msc1767.text": s}
}

// pollStart is the event that opens m's poll, written in lang (the room's):
// an event is not a message, rendered when it is sent. The answers' IDs
// are the same in every language.
func (f *Feature) pollStart(m *store.Motion, lang string) msg.Event {
	question := msg.Safe(msg.T("Motion #%d: %s", m.Number, m.Text).In(lang))
	kind := pollKindUndisclosed
	if f.Config.Motions.PollKind == "disclosed" {
		kind = pollKindDisclosed
	}
	answers := make([]any, len(pollAnswers))
	fallback := question
	for i, a := range pollAnswers {
		text := a.text.In(lang)
		answer := text1767(text)
		answer["id"] = string(a.choice)
		answers[i] = answer
		fallback += fmt.Sprintf("\n%d. %s", i+1, text)
	}
	q := text1767(question)
	q["body"], q["msgtype"] = question, "m.text"
	return msg.Event{
		Type: PollStartType,
		Content: map[string]any{
			"org.matrix.msc3381.poll.start": map[string]any{
				"kind":           kind,
				"max_selections": 1,
				"question":       q,
				"answers":        answers,
			},
			"org.matrix.msc1767.text": fallback,
			"m.mentions":              map[string]any{},
			"quorum.motion":           map[string]any{"id": m.Number},
		},
		Anchor: &msg.Anchor{Kind: anchorPoll, Ref: m.ID},
	}
}

// pollEnd is the event that ends m's poll, saying the result (text, in
// lang, the room's language).
// Once a poll ends, clients show their own count of the answers they saw
// (MSC3381), which leaves out reactions, `!vote`, late answers and the
// frozen electorate, so it can differ from the result: the text says which
// count is the official one, and a decided motion's counts go with it as
// poll results (MSC3381's m.poll.results, under the unstable prefix; a
// sender's view, which clients may show until they have counted, and
// quorum.motion has them too).
func (f *Feature) pollEnd(m *store.Motion, lang, text string, fields map[string]any) msg.Event {
	content := map[string]any{
		"org.matrix.msc3381.poll.end": map[string]any{},
		"m.mentions":                  map[string]any{},
		"quorum.motion":               fields,
	}
	switch m.Status {
	case store.MotionCarried, store.MotionFailed, store.MotionNoQuorum:
		official := msg.T("Official result (counting poll answers and %s): %s", f.Cmd("vote"), text)
		if m.Reactions {
			official = msg.T("Official result (counting reactions, poll answers and %s): %s", f.Cmd("vote"), text)
		}
		text = official.In(lang)
		content[PollResultsKey] = map[string]any{string(Yes): m.Yes, string(No): m.No, string(Abstain): m.Abstain}
	}
	content["org.matrix.msc1767.text"] = msg.Safe(text)
	return msg.Event{Type: PollEndType, Content: content, Reference: &msg.Anchor{Kind: anchorPoll, Ref: m.ID}}
}

// PollResponses implements commands.Poller: answers to a motion's poll
// are votes.
func (f *Feature) PollResponses() map[string]commands.PollResponseHandler {
	return map[string]commands.PollResponseHandler{anchorPoll: f.respond, anchorQuestionPoll: f.answer}
}

// respond is an answer to a motion's poll. As MSC3381 says, only the first
// max_selections (1) answers are looked at, and an answer that selects
// nothing, or nothing the poll offers, is a spoiled one: it withdraws the
// voter's vote.
func (f *Feature) respond(ctx context.Context, fx *commands.Effects, ref int64, pr commands.PollResponse) error {
	m, ok, err := f.Store.Motions().Get(ctx, ref)
	if err != nil || !ok {
		return err
	}
	if !m.Poll {
		// Its poll was ended by an amendment (amend.go): it showed the old
		// wording.
		return f.tellOnce(ctx, fx, m, pr.Sender, msg.T("Motion #%d was amended, so its poll is closed and your answer was not counted: "+
			"vote on the new wording by reacting on its notice or with `%s`.", m.Number, voteOn(f.Cmd(""), m.Number)))
	}
	_, err = f.cast(ctx, fx, ballot{motion: m, voter: pr.Sender, choice: pollChoice(pr.Answers), event: pr.Event, at: pr.Time})
	return err
}

// pollChoice reads the answer IDs of a poll response.
func pollChoice(answers []string) Choice {
	if len(answers) == 0 {
		return noChoice
	}
	for _, a := range pollAnswers {
		if answers[0] == string(a.choice) {
			return a.choice
		}
	}
	return noChoice
}

// ballotChannels are how a motion created now is voted, from motions.ballot:
// a secret ballot never has a poll (it is voted in direct chats).
func (f *Feature) ballotChannels(secret bool) (reactions, poll bool) {
	has := func(channel string) bool {
		return slices.ContainsFunc(f.Config.Motions.Ballot, func(s string) bool { return strings.TrimSpace(s) == channel })
	}
	return has(ChannelReactions), has(ChannelPoll) && !secret
}

// howToVote is the notice's line on how to vote on open motion m.
func (f *Feature) howToVote(m *store.Motion, prefix string) msg.Text {
	cmd := voteOn(prefix, m.Number)
	yes, no, abstain := f.keys()
	switch {
	case m.Poll && m.Reactions:
		return msg.T("Vote in the poll below, by reacting here: %s yes · %s no · %s abstain, or send `%s`.", yes, no, abstain, cmd)
	case m.Poll:
		return msg.T("Vote in the poll below, or send `%s`.", cmd)
	}
	return msg.T("Vote by reacting: %s yes · %s no · %s abstain, or send `%s`.", yes, no, abstain, cmd)
}

// checkBallot validates motions.ballot and motions.poll_kind.
func checkBallot(ballot []string, kind string) error {
	if len(ballot) == 0 {
		return fmt.Errorf("motions.ballot is empty; list `reactions`, `poll` or both, for example `ballot: [reactions, poll]`")
	}
	seen := map[string]bool{}
	for _, ch := range ballot {
		ch = strings.TrimSpace(ch)
		if ch != ChannelReactions && ch != ChannelPoll {
			return fmt.Errorf("motions.ballot entry %q: use `reactions`, `poll` or both, for example `ballot: [reactions, poll]`", ch)
		}
		if seen[ch] {
			return fmt.Errorf("motions.ballot lists %q twice; for example `ballot: [reactions, poll]`", ch)
		}
		seen[ch] = true
	}
	if kind != "undisclosed" && kind != "disclosed" {
		return fmt.Errorf("motions.poll_kind %q: use `undisclosed` (no count shown before the end) or `disclosed`", kind)
	}
	return nil
}
