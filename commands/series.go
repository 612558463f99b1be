package commands

import (
	"regexp"
	"slices"
	"strings"
	"time"

	"quorum/commands/timespec"
)

// series is when a roster's turns or a recurring reminder fall, as typed:
//
//	every <interval> [at <time>] [from <when>] [for <duration>]
//
// <interval> is timespec.ParseRecurrence's ("week", "2 weeks", "tuesday",
// "monday and thursday", "month"); a time of day may follow it, with or
// without "at" ("every monday 18:00"). <when> is a timespec.Moment ("monday
// 18:00", "2026-12-01 18:00"); without it the first turn is the next 09:00
// (or the time of day given), moved to the first matching weekday. <duration>
// ends the series that long after its start, on the calendar ("for 12
// weeks" keeps the wall-clock time across DST changes).
type Series struct {
	Start time.Time // the first occurrence, in loc
	Rule  timespec.Recurrence
	End   time.Time // zero: open-ended
}

// seriesExample is shown with every mistake in a series.
const seriesExample = "every week from monday 18:00" // a command, the same in every language: not for members

// parseSeries reads a series (text starts with "every") in loc.
func ParseSeries(text string, now time.Time, loc *time.Location) (Series, error) {
	words := strings.Fields(text)
	if len(words) == 0 || !strings.EqualFold(words[0], "every") {
		return Series{}, Refusef("Say how often, e.g. `%s`.", seriesExample)
	}
	words = words[1:]
	iFrom, iFor := WordIndex(words, "from"), WordIndex(words, "for")
	// segment is the words after keyword at, up to the other keyword.
	segment := func(at int) []string {
		end := len(words)
		for _, other := range []int{iFrom, iFor} {
			if other > at && other < end {
				end = other
			}
		}
		return words[at+1 : end]
	}
	interval := words[:min(iFrom, iFor)]
	var fromWords, forWords []string
	if iFrom < len(words) {
		if fromWords = segment(iFrom); len(fromWords) == 0 {
			return Series{}, Refusef("Say when it starts after `from`, e.g. `%s`.", seriesExample)
		}
	}
	if iFor < len(words) {
		if forWords = segment(iFor); len(forWords) == 0 {
			return Series{}, Refusef("Say how long it runs after `for`, e.g. `%s for 12 weeks`.", seriesExample)
		}
	}
	rule, clock, err := parseInterval(interval, now, loc)
	if err != nil {
		return Series{}, err
	}
	when := "9:00"
	switch {
	case len(fromWords) > 0 && clock != "":
		when = strings.Join(fromWords, " ") + " " + clock
	case len(fromWords) > 0:
		when = strings.Join(fromWords, " ")
	case clock != "":
		when = clock
	}
	start, err := timespec.Moment(when, now, loc)
	if err != nil {
		return Series{}, err
	}
	s := Series{Start: start, Rule: rule}
	if len(forWords) > 0 {
		d, err := timespec.Duration(strings.Join(forWords, " "))
		if err != nil {
			return Series{}, err
		}
		s.End = start.AddDate(0, 0, int(d/(24*time.Hour))).Add(d % (24 * time.Hour))
	}
	if occ := rule.Occurrences(start, start, 1); len(occ) == 0 || !s.End.IsZero() && !occ[0].Before(s.End) {
		return Series{}, Refusef("That never happens: the first time would be after the end. Try `%s for 12 weeks`.", seriesExample)
	}
	return s, nil
}

// parseInterval reads the repeat, and a time of day typed after it.
func parseInterval(words []string, now time.Time, loc *time.Location) (timespec.Recurrence, string, error) {
	if len(words) == 0 {
		return timespec.Recurrence{}, "", Refusef("Say how often after `every`, e.g. `every week`, `every 2 weeks` or `every tuesday`.")
	}
	rule, err := timespec.ParseRecurrence(strings.Join(words, " "))
	if err == nil {
		return rule, "", nil
	}
	// "monday 18:00", "monday at 6 pm": a repeat, then a time of day.
	for k := 1; k <= 2 && k < len(words); k++ {
		head, rest := words[:len(words)-k], words[len(words)-k:]
		if len(head) > 1 && strings.EqualFold(head[len(head)-1], "at") {
			head = head[:len(head)-1]
		}
		if !slices.ContainsFunc(rest, func(w string) bool { return !clockWordRE.MatchString(w) }) {
			clock := strings.Join(rest, " ")
			r, rerr := timespec.ParseRecurrence(strings.Join(head, " "))
			if _, cerr := timespec.Moment(clock, now, loc); rerr == nil && cerr == nil {
				return r, clock, nil
			}
		}
	}
	return timespec.Recurrence{}, "", err
}

// clockWordRE matches the words of a time of day: "18:00", "6pm", "6", "pm".
var clockWordRE = regexp.MustCompile(`(?i)^(\d{1,2}(:\d{2})?(am|pm)?|am|pm|noon|midday)$`)
