package commands

import (
	"strings"
	"testing"
	"time"
)

func TestParseSeries(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) // Wednesday, 13:00 in Berlin
	at := func(month time.Month, day, hour, minute int) time.Time {
		return time.Date(2026, month, day, hour, minute, 0, 0, berlin)
	}
	var open time.Time
	for _, tc := range []struct {
		text       string
		start      time.Time
		rule       string
		end        time.Time
		firstMatch time.Time // the first occurrence, when it differs from start
	}{
		{"every week", at(11, 26, 9, 0), "every week", open, open},
		{"EVERY week", at(11, 26, 9, 0), "every week", open, open},
		{"every week from monday 18:00", at(11, 30, 18, 0), "every week", open, open},
		{"every monday 18:00", at(11, 25, 18, 0), "every monday", open, at(11, 30, 18, 0)},
		{"every monday at 6 pm", at(11, 25, 18, 0), "every monday", open, at(11, 30, 18, 0)},
		{"every monday 6 pm", at(11, 25, 18, 0), "every monday", open, at(11, 30, 18, 0)},
		{"every day 9:00 am", at(11, 26, 9, 0), "every day", open, open},
		{"every monday at 6 pm from 2026-12-07", at(12, 7, 18, 0), "every monday", open, open},
		{"every 2 weeks for 6 weeks", at(11, 26, 9, 0), "every 2 weeks", time.Date(2027, 1, 7, 9, 0, 0, 0, berlin), open},
		{"every day for 36h", at(11, 26, 9, 0), "every day", at(11, 27, 21, 0), open},
		{"every week for 1d", at(11, 26, 9, 0), "every week", at(11, 27, 9, 0), open},
		{"every week from friday for 12 weeks", at(11, 27, 9, 0), "every week", time.Date(2027, 2, 19, 9, 0, 0, 0, berlin), open},
		{"every week for 12 weeks from friday", at(11, 27, 9, 0), "every week", time.Date(2027, 2, 19, 9, 0, 0, 0, berlin), open},
		{"every week from monday 18:00 for 1 week", at(11, 30, 18, 0), "every week", at(12, 7, 18, 0), open},
	} {
		s, err := ParseSeries(tc.text, now, berlin)
		if err != nil {
			t.Errorf("%q: %v", tc.text, err)
			continue
		}
		if !s.Start.Equal(tc.start) || s.Rule.String() != tc.rule || !s.End.Equal(tc.end) {
			t.Errorf("%q = start %v, %q, end %v; want %v, %q, %v", tc.text, s.Start, s.Rule.String(), s.End, tc.start, tc.rule, tc.end)
		}
		first := tc.firstMatch
		if first.IsZero() {
			first = tc.start
		}
		if occ := s.Rule.Occurrences(s.Start, s.Start, 1); len(occ) != 1 || !occ[0].Equal(first) {
			t.Errorf("%q: first occurrence %v, want %v", tc.text, occ, first)
		}
	}
	for _, tc := range []struct{ text, want string }{
		{"", "Say how often, e.g. `every week from monday 18:00`."},
		{"week", "Say how often, e.g."},
		{"every", "Say how often after `every`"},
		{"every from monday", "Say how often after `every`"},
		{"every for 2 weeks", "Say how often after `every`"},
		{"every week from", "Say when it starts after `from`"},
		{"every week from for 2 weeks", "Say when it starts after `from`"},
		{"every week for", "Say how long it runs after `for`"},
		{"every week for from monday", "Say how long it runs after `for`"},
		{"every week for for", `"for" as a duration`},
		{"every week for 0m", `"0m" is no time at all`},
		{"every week from yesterday", `"yesterday" as a time`},
		{"every foo", `"foo" as a repeat`},
		{"every at 6pm", `"at 6pm" as a repeat`},
		{"every monday 25:00", `not "25:00"`},
		{"every monday at", `not "at"`},
		{"every monday 18:00 for 1d", "That never happens: the first time would be after the end."},
		{"every monday for 1d from monday 18:00", ""},
	} {
		_, err := ParseSeries(tc.text, now, berlin)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.text, err)
			}
			continue
		}
		ue, ok := AsRefusal(err)
		if !ok || !strings.Contains(ue.Message.Body, tc.want) {
			t.Errorf("%q: %v, want a refusal saying %q", tc.text, err, tc.want)
		}
	}
}

func FuzzParseSeries(f *testing.F) {
	for _, s := range []string{
		"every week", "every monday 18:00", "every monday at 6 pm from 2026-12-07", "every day 9:00 am",
		"every 2 weeks for 6 weeks", "every day for 36h", "every week for 12 weeks from friday",
		"every", "every from", "every for", "every week from for", "every week for 0m", "every monday 25:00",
		"every monday at", "every at", "every monday 18:00 for 1d", "every 9999 years", "every month from 31 jan",
		"every weekday at noon", "every week from in 3 days", "every week for 1000 weeks", "every\x00week", "every 1",
	} {
		f.Add(s)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 3, 28, 23, 30, 0, 0, berlin) // the night before a DST change
	f.Fuzz(func(t *testing.T, text string) {
		s, err := ParseSeries(text, now, berlin)
		if err != nil {
			if ue, ok := AsRefusal(err); !ok || ue.Message.Body == "" {
				t.Fatalf("%q: not a refusal: %v", text, err)
			}
			return
		}
		occ := s.Rule.Occurrences(s.Start, s.Start, 1)
		if len(occ) != 1 || occ[0].Before(s.Start) || !s.End.IsZero() && !occ[0].Before(s.End) {
			t.Fatalf("%q: start %v, end %v, first occurrence %v", text, s.Start, s.End, occ)
		}
		if !s.Start.After(now) || s.Start.Location() != berlin {
			t.Fatalf("%q: start %v is not after now, in the zone", text, s.Start)
		}
		if !s.End.IsZero() && !s.End.After(s.Start) {
			t.Fatalf("%q: ends %v, not after its start %v", text, s.End, s.Start)
		}
	})
}
