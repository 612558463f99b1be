package rosters

import (
	"slices"
	"strings"
	"testing"
	"time"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/commands/timespec"
)

var grammarSeeds = []string{
	"minutes every week from monday 18:00 : @ana @ben @chi",
	"kitchen every 2 weeks on friday for 12 weeks : @ana, @ben",
	"x every monday 18:00 : @a",
	"x every monday at 6 pm from 2026-12-01 : @a",
	"x every day for 3d from tomorrow 8:00 : @a:b.c",
	"x every month from 31 jan 2027 : @a",
	"x every weekday at 9:00 for 2w : @a",
	"x every fortnight from in 3 days : @a",
	"x every 3 days from 3 days from now : @a",
	"x every : @a",
	"x every week from : @a",
	"x every week for for : @a",
	"every week : @a",
	"new every week : @a",
	"x every week:@a",
	"x every week 25:00 : @a",
	"ü every tuesday 7 : @ü",
	"x every week from monday 18:00 for 0m : @a",
	"x every 9999 years : @a",
	"x\x00 every week : @a",
	": : :",
}

// grammarEdges are seeds for the grammar alone (each seed of
// FuzzDutyCommands costs a database).
var grammarEdges = []string{
	// Edges: names at and over their length and reserved ones, member
	// lists at and over their limit, a duplicate, a series of one turn and
	// one that never happens, white space of every kind.
	strings.Repeat("n", maxNameLen) + " every week : @a",
	strings.Repeat("n", maxNameLen+1) + " every week : @a",
	"list every week : @a", "accept every week : @a", "Mixed_Case-1 every week : @a",
	"x every week : " + strings.TrimSpace(strings.Repeat("@a ", maxRosterMembers)),
	"x every week : " + strings.TrimSpace(strings.Repeat("@a ", maxRosterMembers+1)),
	"x every week : @a @a", "x every week : a", "x every week :", "x every week : @", "x every week : @a,@b",
	"x every week for 1d : @a", "x every monday 18:00 for 1d : @a", "x every week from 2026-03-29 02:30 : @a",
	"x\tevery\tweek\t:\t@a", "x every week\n: @a",
	"",
}

// FuzzRosterGrammar: `roster new` never panics; it either explains the
// mistake in one line, or gives a roster whose every part is sound.
func FuzzRosterGrammar(f *testing.F) {
	for _, s := range append(grammarSeeds, grammarEdges...) {
		f.Add(s)
	}
	berlin := mustZone("Europe/Berlin")
	now := time.Date(2026, 3, 28, 23, 30, 0, 0, berlin) // the night before a DST change
	f.Fuzz(func(t *testing.T, args string) {
		spec, err := parseNewRoster(args, now, berlin, "example")
		if err != nil {
			ue, ok := commands.AsRefusal(err)
			if !ok || ue.Message.Body == "" || strings.Contains(ue.Message.Body, "\n") {
				t.Fatalf("%q: error is not one friendly line: %#v", args, err)
			}
			return
		}
		if name, ok := rosterName(spec.name); !ok || name != spec.name || slices.Contains(reservedNames, name) {
			t.Errorf("%q: bad name %q", args, spec.name)
		}
		s := spec.series
		if !s.Start.After(now) || s.Start.Location() != berlin {
			t.Errorf("%q: start %v", args, s.Start)
		}
		if r, err := timespec.ParseRecurrence(s.Rule.String()); err != nil || r != s.Rule {
			t.Errorf("%q: rule %+v does not round-trip through %q", args, s.Rule, s.Rule.String())
		}
		if r, err := timespec.ParseRRule(s.Rule.RRule()); err != nil || r != s.Rule {
			t.Errorf("%q: rule %+v does not round-trip through %q", args, s.Rule, s.Rule.RRule())
		}
		first := s.Rule.Occurrences(s.Start, s.Start, 1)
		if len(first) != 1 || !s.End.IsZero() && !first[0].Before(s.End) {
			t.Errorf("%q: no turn before the end %v", args, s.End)
		}
		if len(spec.members) == 0 || len(spec.members) > maxRosterMembers {
			t.Errorf("%q: %d members", args, len(spec.members))
		}
		for _, m := range spec.members {
			if !commands.IsMention(m) {
				t.Errorf("%q: member %q", args, m)
			}
		}
	})
}

// FuzzDateRange: absences' dates are read in order, or refused.
func FuzzDateRange(f *testing.F) {
	for _, s := range []string{
		"2026-12-01 2026-12-14", "1 dec to 14 dec", "friday", "1 dec 2026 3 dec 2026", "tomorrow next monday", "to",
		// Edges: one day twice, the second before the first, a reading
		// that is ambiguous, nothing, "to" alone at either end.
		"2026-12-01 2026-12-01", "2026-12-14 to 2026-12-01", "1 dec 3 dec 2026", "", "to 2026-12-01", "2026-12-01 to",
		"today today", "2026-12-01 to to 2026-12-02", "1.12.2026 2.12.2026", "2026-11-25", "2028-12-01",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := dateRange(strings.Fields(s), now, time.UTC, "")
		if err == nil && (to.Before(from) || from.Hour() != 0 || to.Hour() != 0) {
			t.Errorf("%q: %v to %v", s, from, to)
		}
	})
}

// FuzzDutyCommands sends arbitrary arguments to every command of the
// feature: each gets exactly one reply, and none is an internal error.
func FuzzDutyCommands(f *testing.F) {
	for _, s := range append(grammarSeeds, "minutes", "minutes 3", "minutes add @dan", "minutes skip 30 nov",
		"minutes away @ana 1 dec 3 dec", "minutes remove @ben:test", "minutes delete", "minutes 2026-11-30 @ben",
		"accept 1", "decline 1", "me in 2h : x", "me every monday 9:00 : x", "duty on 12h", "list", "cancel 1",
		"Europe/Berlin", "reset", "@room") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		if strings.ContainsAny(args, "\x00") {
			return // not a Matrix message body
		}
		h := rosterHarness(t, "Europe/Berlin")
		h.Send(Ana, "!roster new minutes every week from monday 18:00 : @ana @ben @chi")
		h.Drain()
		for _, cmd := range []string{"roster", "roster new", "swap", "remind", "tz", "duty", "rosters"} {
			evt := h.Send(Ana, "!"+cmd+" "+args)
			out := h.Drain()
			if !slices.ContainsFunc(out, func(o Sent) bool { return o.Msg.ReplyTo == evt }) {
				t.Fatalf("!%s %q: no reply: %+v", cmd, args, out)
			}
			for _, o := range out {
				if strings.Contains(o.Msg.Body, "went wrong") || strings.Contains(strings.ToLower(o.Msg.Body), "@room") {
					t.Fatalf("!%s %q: %q", cmd, args, o.Msg.Body)
				}
			}
		}
	})
}

// TestParseNewRosterLimits: the grammar's limits, exactly at them and one
// over, and a series with nothing after "every".
func TestParseNewRosterLimits(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	members := func(n int) string { return strings.TrimSpace(strings.Repeat("@a ", n)) }
	for _, tc := range []struct{ args, refusal string }{
		{"x every week : " + members(maxRosterMembers), ""},
		{"x every week : " + members(maxRosterMembers+1), "A roster can have at most 100 members."},
		{strings.Repeat("n", maxNameLen) + " every week : @a", ""},
		{strings.Repeat("n", maxNameLen+1) + " every week : @a", "A roster's name is one word"},
		{"x every : @a", "Say how often after `every`"},
		{"x : @a", "Give a name, how often, and the members after a colon"},
	} {
		spec, err := parseNewRoster(tc.args, now, time.UTC, "example")
		if tc.refusal == "" {
			if err != nil {
				t.Errorf("%.40q: %v", tc.args, err)
			}
			continue
		}
		if ue, ok := commands.AsRefusal(err); !ok || !strings.Contains(ue.Message.Body, tc.refusal) {
			t.Errorf("%.40q: %+v, %v; want %q", tc.args, spec, err, tc.refusal)
		}
	}
}
