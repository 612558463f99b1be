package study

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.mau.fi/util/random"

	"quorum/commands"
	"quorum/commands/motions"
	"quorum/commands/timespec"
	"quorum/msg"
	"quorum/store"
)

// Time polls. `study new <title> at <time> | <time> | …` with 2 to 10
// candidate times asks the room, in a poll (motions.Ask), which times each
// member can come to; when the poll closes (at `--decide WHEN`, or with
// `close N`), the session is scheduled at the time most can come to (the
// earliest among equals, of those still ahead), with the usual
// announcement, answers and reminders.

// pollKindTimes is the kind of a study session's time poll.
const pollKindTimes = "study.time"

// Bounds of a time poll.
const (
	minTimes = 2
	maxTimes = 10
)

// timesPayload is what a time poll keeps to schedule the session: the
// session as asked, and its candidate times (in order).
type timesPayload struct {
	Title   string      `json:"title"`
	Topic   string      `json:"topic,omitempty"`
	Place   string      `json:"place,omitempty"`
	Private bool        `json:"private,omitempty"`
	Zone    string      `json:"zone"`
	Every   string      `json:"every,omitempty"`
	Times   []time.Time `json:"times"`
	By      string      `json:"by"`
}

// AskWith lets study sessions ask for their time in polls, through the
// motions feature (which numbers, counts and closes them).
func (f *Feature) AskWith(m *motions.Feature) {
	f.polls = m
	m.OnClose(pollKindTimes, f.timesDecided)
}

// takeDecide takes `--decide WHEN` out of args (the longest run of up to
// four words after it that reads as a time or a duration from now).
func takeDecide(args string, now time.Time, loc *time.Location) (string, time.Time, bool, error) {
	words := strings.Fields(args)
	for i, w := range words {
		name, value, hasValue, isOption := commands.Option(w)
		if !isOption || name != "decide" {
			continue
		}
		if hasValue {
			at, err := decideTime(value, now, loc)
			return strings.Join(slices.Delete(words, i, i+1), " "), at, true, err
		}
		var firstErr error
		for n := min(4, len(words)-i-1); n >= 1; n-- {
			at, err := decideTime(strings.Join(words[i+1:i+1+n], " "), now, loc)
			if err == nil {
				return strings.Join(slices.Delete(words, i, i+1+n), " "), at, true, nil
			}
			if n == 1 {
				firstErr = err
			}
		}
		if firstErr == nil {
			firstErr = commands.Refusef("`--decide` needs a time, such as `48h` or `friday 18:00`.")
		}
		return args, time.Time{}, true, firstErr
	}
	return args, time.Time{}, false, nil
}

func decideTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if d, err := timespec.Duration(s); err == nil {
		return now.Add(d), nil
	}
	return timespec.Moment(s, now, loc)
}

// candidateTimes reads the times of `at <time> | <time> | …`; ok is false
// when there is only one.
func candidateTimes(args string, now time.Time, loc *time.Location, cmd func(string) string) ([]time.Time, bool, error) {
	if !strings.Contains(args, "|") {
		return nil, false, nil
	}
	// The times stand between `at` and the next keyword; split them apart
	// and read each through the usual grammar. As there, the first word is
	// the title's, even "At".
	words := strings.Fields(strings.ReplaceAll(args, "|", " | "))
	at := 1 + slices.IndexFunc(words[1:], func(w string) bool { return strings.EqualFold(w, "at") })
	if at == 0 {
		return nil, false, nil // the usual grammar says what is missing
	}
	end := len(words)
	for j := at + 1; j < len(words); j++ {
		if k := strings.ToLower(words[j]); k != "at" && isStudyKeyword(k) || strings.HasPrefix(words[j], "-") || strings.HasPrefix(words[j], "—") || strings.HasPrefix(words[j], "–") {
			end = j
			break
		}
	}
	segment := strings.Join(words[at+1:end], " ")
	if !strings.Contains(segment, "|") {
		return nil, false, nil // a | elsewhere (in a place) asks for no poll
	}
	var times []time.Time
	for part := range strings.SplitSeq(segment, "|") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		t, err := timespec.Moment(part, now, loc)
		if err != nil {
			return nil, true, err
		}
		if slices.ContainsFunc(times, t.Equal) {
			return nil, true, commands.Refusef("%s is there twice.", timespec.Human(t, loc))
		}
		times = append(times, t)
	}
	if len(times) < minTimes || len(times) > maxTimes {
		return nil, true, commands.Refusef("A time poll needs from %d to %d times separated by `|` (I read %d), e.g. `%s`.", minTimes, maxTimes, len(times), cmd(timesExample))
	}
	slices.SortFunc(times, time.Time.Compare)
	return times, true, nil
}

const timesExample = "study new Reading circle at friday 18:00 | saturday 11:00 | sunday 17:00 --decide thursday 12:00" // a command: not for members to read translated

// askTimes opens the poll on the times of a session to be.
func (f *Feature) askTimes(ctx context.Context, r *commands.Request, args string, times []time.Time, decide time.Time, decideSet bool) error {
	now, loc := r.Clock.Now(), r.Location()
	if f.polls == nil {
		return commands.Refusef("I can't ask for a time here; give one time.")
	}
	// Read the rest through the usual grammar, with the first time.
	spec, err := parseStudyNew(singleTime(args), now, loc, r.Cmd)
	if err != nil {
		return err
	}
	if !decideSet {
		// A day before the first time, or halfway there if that is sooner.
		decide = times[0].Add(-24 * time.Hour)
		if !decide.After(now) {
			decide = now.Add(times[0].Sub(now) / 2)
		}
	}
	switch {
	case !decide.After(now):
		return commands.Refusef("`--decide` %s has already passed.", timespec.Human(decide, loc))
	case !decide.Before(times[0]):
		return commands.Refusef("Decide before the first time (%s): `--decide` is %s.", timespec.Human(times[0], loc), timespec.Human(decide, loc))
	}
	every := ""
	if spec.Rule.RRule() != "" {
		every = everyText(args)
	}
	payload, err := json.Marshal(timesPayload{Title: spec.Title, Topic: spec.Topic, Place: spec.Place, Private: spec.Private,
		Zone: loc.String(), Every: every, Times: times, By: string(r.Sender)})
	if err != nil {
		return err
	}
	// A poll's question and answers are not messages: they are written in
	// the room's language when it is asked.
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	answers := make([]string, len(times))
	for i, t := range times {
		answers[i] = timespec.Human(t, loc).Localize(lang)
	}
	_, err = f.polls.Ask(ctx, &r.Effects, motions.Question{
		Room: r.Room, Creator: r.Sender, Answers: answers, Multiple: len(times), ClosesAt: decide,
		Text: msg.T("When can you come to %s? (every time you can; the one most can come to is scheduled when this closes)", spec.Title).In(lang),
		Kind: pollKindTimes, Payload: string(payload),
	})
	if err != nil {
		return err
	}
	if spec.Private && spec.Place != "" {
		return redactPlace(ctx, r)
	}
	return nil
}

// singleTime is args with only the first of its candidate times, for the
// usual grammar.
func singleTime(args string) string {
	words := strings.Fields(strings.ReplaceAll(args, "|", " | "))
	var out []string
	skipping := false
	for _, w := range words {
		switch {
		case w == "|":
			skipping = true
		case skipping && (isStudyKeyword(strings.ToLower(w)) && strings.ToLower(w) != "at" || strings.HasPrefix(w, "-") || strings.HasPrefix(w, "—") || strings.HasPrefix(w, "–")):
			skipping = false
			out = append(out, w)
		case !skipping:
			out = append(out, w)
		}
	}
	return strings.Join(out, " ")
}

// everyText is what follows `every` in args, up to the next keyword. Args
// begin with a title (parseStudyNew read them): as there, its first word
// is the title's, even "Every".
func everyText(args string) string {
	words := strings.Fields(args)
	i := 1 + slices.IndexFunc(words[1:], func(w string) bool { return strings.EqualFold(w, "every") })
	if i == 0 {
		return ""
	}
	var out []string
	for _, w := range words[i+1:] {
		if isStudyKeyword(strings.ToLower(w)) || strings.HasPrefix(w, "-") {
			break
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// timesDecided schedules the session of a closed time poll at the time
// most members can come to: the earliest among equals, of the times still
// ahead. With no answer, or no time left ahead, nothing is scheduled.
func (f *Feature) timesDecided(ctx context.Context, fx *commands.Effects, p *store.Poll, votes map[string]int) error {
	var tp timesPayload
	if err := json.Unmarshal([]byte(p.Payload), &tp); err != nil {
		return fmt.Errorf("time poll %d payload: %w", p.ID, err)
	}
	now := f.Clock.Now()
	best := -1
	for i, t := range tp.Times {
		if t.After(now) && votes[motions.AnswerID(i)] > 0 && (best < 0 || votes[motions.AnswerID(i)] > votes[motions.AnswerID(best)]) {
			best = i
		}
	}
	if best < 0 {
		fx.Say(p.Room, msg.F("Poll #%d on the time of %s: no time ahead that anyone can come to, so I scheduled nothing. Ask again with `%s`.",
			p.Number, tp.Title, f.Cmd("study new")))
		return nil
	}
	start := tp.Times[best]
	var rrule string
	if tp.Every != "" {
		rule, err := timespec.ParseRecurrence(tp.Every)
		if err != nil {
			return fmt.Errorf("time poll %d every: %w", p.ID, err)
		}
		if occ := rule.Occurrences(start, start, 1); len(occ) > 0 {
			start = occ[0]
		}
		rrule = rule.RRule()
	}
	s := &store.Session{
		Room: p.Room, UID: "study-" + strings.ToLower(random.String(20)) + "@quorum", Title: tp.Title,
		Topic: tp.Topic, Place: tp.Place, PrivatePlace: tp.Private, Zone: tp.Zone, RRule: rrule,
		SeriesStart: start, StartsAt: start, Duration: sessionDuration, Status: store.SessionScheduled,
		CreatedBy: p.Creator, CreatedAt: now, UpdatedAt: now,
	}
	if err := f.Store.Sessions().Create(ctx, s); err != nil {
		return err
	}
	fx.Say(p.Room, f.notice(ctx, s, f.Cmd("")))
	return f.planAll(ctx, s)
}
