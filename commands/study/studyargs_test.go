package study

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"quorum/commands"
)

func TestParseStudyNew(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cmd := func(s string) string { return "!" + s }
	for _, tc := range []struct {
		in                  string
		title, place, topic string
		private             bool
		start               string
		rule                string
	}{
		{"Circle at friday 18:00", "Circle", "", "", false, "2026-11-27T18:00:00Z", ""},
		{"Circle at friday 18:00 where the cafe at the corner", "Circle", "the cafe at the corner", "", false, "2026-11-27T18:00:00Z", ""},
		{"Circle --private-location at 2026-12-01 19:00 where Ana's topic Unions", "Circle", "Ana's", "Unions", true, "2026-12-01T19:00:00Z", ""},
		{"Theory night topic Lenin every 2 weeks at thursday 19:00", "Theory night", "", "Lenin", false, "2026-11-26T19:00:00Z", "FREQ=WEEKLY;INTERVAL=2"},
		// A keyword is one only after the title's first word.
		{"Where next at friday 18:00", "Where next", "", "", false, "2026-11-27T18:00:00Z", ""},
		{"Circle at wednesday 18:00 every tuesday", "Circle", "", "", false, "2026-12-01T18:00:00Z", "FREQ=WEEKLY;BYDAY=TU"},
	} {
		spec, err := parseStudyNew(tc.in, now, time.UTC, cmd)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if spec.Title != tc.title || spec.Place != tc.place || spec.Topic != tc.topic || spec.Private != tc.private ||
			spec.Start.UTC().Format(time.RFC3339) != tc.start || spec.Rule.RRule() != tc.rule {
			t.Errorf("%q: got %+v (rule %q)", tc.in, spec, spec.Rule.RRule())
		}
	}
}

// TestParseStudyNewLimits: the longest title, place and topic, each
// exactly at its limit and one over.
func TestParseStudyNewLimits(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cmd := func(s string) string { return "!" + s }
	for _, tc := range []struct {
		part  string // args with %s for the text
		limit int
	}{
		{"%s at friday 18:00", maxSessionTitle},
		{"Circle at friday 18:00 where %s", maxSessionPlace},
		{"Circle at friday 18:00 topic %s", maxSessionTopic},
	} {
		if _, err := parseStudyNew(fmt.Sprintf(tc.part, strings.Repeat("ü", tc.limit)), now, time.UTC, cmd); err != nil {
			t.Errorf("%q at its limit: %v", tc.part, err)
		}
		_, err := parseStudyNew(fmt.Sprintf(tc.part, strings.Repeat("ü", tc.limit+1)), now, time.UTC, cmd)
		if err == nil || !strings.Contains(err.Error(), "too long; keep it under "+strconv.Itoa(tc.limit)) {
			t.Errorf("%q one over its limit: %v", tc.part, err)
		}
	}
}

// FuzzStudyNew: whatever is typed, the parser answers with a friendly
// error or a session that can be stored and shown.
func FuzzStudyNew(f *testing.F) {
	for _, seed := range []string{
		studyExample[len("study new "):],
		"Circle at friday 18:00 where x --private-location",
		"at at at at",
		"Circle at 2026-12-01 18:00 every weekday topic where",
		"Circle every at where topic",
		"x at in 3 days every 2 weeks on monday",
		"Circle at friday 18:00 \x00",
		"C\u202eircle at noon",
		// Edges: nothing; a keyword first (no title); each part empty; each
		// text at and over its limit; the flag alone, twice, first; a
		// keyword inside a later part; every keyword twice.
		"", "at friday 18:00", "Circle at", "Circle at friday 18:00 where", "Circle at friday 18:00 topic", "Circle at friday 18:00 every",
		strings.Repeat("t", maxSessionTitle) + " at friday 18:00", strings.Repeat("t", maxSessionTitle+1) + " at friday 18:00",
		"C at friday 18:00 where " + strings.Repeat("p", maxSessionPlace), "C at friday 18:00 where " + strings.Repeat("p", maxSessionPlace+1),
		"C at friday 18:00 topic " + strings.Repeat("ü", maxSessionTopic), "C at friday 18:00 topic " + strings.Repeat("ü", maxSessionTopic+1),
		"--private-location", "--private Circle at friday 18:00 where x --PRIVATE-LOCATION", "Circle at friday 18:00 --private",
		"Circle at friday 18:00 where the cafe at the corner every week topic where we at", "Circle at yesterday", "Circle at friday 18:00 every never",
		"Circle\tat\tfriday\t18:00", "Circle at friday 18:00\nwhere x", "\xff at friday 18:00",
	} {
		f.Add(seed)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		spec, err := parseStudyNew(in, now, time.UTC, func(s string) string { return "!" + s })
		if err != nil {
			ue, ok := commands.AsRefusal(err)
			if !ok || ue.Message.Body == "" || strings.Contains(ue.Message.Body, "\n") {
				t.Fatalf("%q: not a one-line user error: %v", in, err)
			}
			return
		}
		switch {
		case spec.Title == "" || utf8.RuneCountInString(spec.Title) > maxSessionTitle:
			t.Fatalf("%q: title %q", in, spec.Title)
		case utf8.RuneCountInString(spec.Place) > maxSessionPlace || utf8.RuneCountInString(spec.Topic) > maxSessionTopic:
			t.Fatalf("%q: place %q topic %q", in, spec.Place, spec.Topic)
		case spec.Private && spec.Place == "":
			t.Fatalf("%q: private without a place", in)
		case !spec.Start.After(now):
			t.Fatalf("%q: starts %v, not after now", in, spec.Start)
		case !spec.Rule.IsZero() && spec.Rule.RRule() == "":
			t.Fatalf("%q: a rule that cannot be stored", in)
		}
		for _, s := range []string{spec.Title, spec.Place, spec.Topic} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\t\x00") {
				t.Fatalf("%q: unsafe text %q", in, s)
			}
		}
	})
}
