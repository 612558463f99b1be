package rosters

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/commands/timespec"
	"quorum/store"
)

// rotStart is a weekly roster's first turn, Monday 18:00 in Berlin on
// 5 January 2026; week(k) is the start of turn k (1-based).
var rotStart = time.Date(2026, 1, 5, 18, 0, 0, 0, mustZone("Europe/Berlin"))

func week(k int) time.Time { return rotStart.AddDate(0, 0, 7*(k-1)) }

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// member is a membership period; letters stand for users.
func member(pos int64, letter string, added, removed time.Time) store.RosterMember {
	return store.RosterMember{Pos: pos, User: id.UserID(letter), Added: added, Removed: removed}
}

// sequence renders turns as "A B C", "-" for nobody, "A*" for a swapped turn.
func sequence(turns []Turn) string {
	var parts []string
	for _, t := range turns {
		s := string(t.User)
		if s == "" {
			s = "-"
		}
		if t.Swapped {
			s += "*"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestRotationFairness(t *testing.T) {
	long := time.Time{}
	abc := []store.RosterMember{member(1, "A", long, long), member(2, "B", long, long), member(3, "C", long, long)}
	midweek := func(k int) time.Time { return week(k).Add(-72 * time.Hour) } // between turn k-1 and turn k
	awayFor := func(u string, from, to int) store.Away {
		return store.Away{User: id.UserID(u), From: midweek(from), To: midweek(to + 1)}
	}
	for _, tc := range []struct {
		name      string
		members   []store.RosterMember
		skips     []int
		aways     []store.Away
		overrides map[int]string
		end       time.Time
		want      string
	}{
		{name: "plain rotation", members: abc, want: "A B C A B C A B C"},
		{name: "a skipped turn uses nobody's turn", members: abc, skips: []int{2}, want: "A B C A B C A B C"},
		{name: "away one turn: the next member steps in, the absent one takes the next free turn",
			members: abc, aways: []store.Away{awayFor("A", 1, 1)}, want: "B A C A B C A B C"},
		{name: "an absence from exactly one turn's start to exactly the next's covers one turn",
			members: abc, aways: []store.Away{{User: "A", From: week(1), To: week(2)}}, want: "B A C A B C A B C"},
		{name: "an absence ending exactly when a turn starts does not cover it",
			members: abc, aways: []store.Away{{User: "B", From: midweek(2), To: week(3)}}, want: "A C B A B C A B C"},
		{name: "an absence ending a moment after a turn starts covers it",
			members: abc, aways: []store.Away{{User: "B", From: midweek(2), To: week(3).Add(time.Millisecond)}}, want: "A C A B C A B C A"},
		{name: "away in the middle of a round", members: abc, aways: []store.Away{awayFor("B", 2, 2)},
			want: "A C B A B C A B C"},
		{name: "away several rounds: owed one turn, not one per round, and not twice in a row",
			members: abc, aways: []store.Away{awayFor("A", 1, 4)}, want: "B C B C A B C A B"},
		{name: "two away at once", members: abc, aways: []store.Away{awayFor("A", 1, 2), awayFor("B", 1, 1)},
			want: "C B A B C A B C A"},
		{name: "everyone away: nobody, and the rotation resumes in order", members: abc,
			aways: []store.Away{awayFor("A", 2, 2), awayFor("B", 2, 2), awayFor("C", 2, 2)}, want: "A - B C A B C A B"},
		{name: "a member joins: at the end of the order",
			members: append(append([]store.RosterMember{}, abc...), member(4, "D", midweek(3), long)),
			want:    "A B C D A B C D A"},
		{name: "a member joins mid-cycle: after the others",
			members: append(append([]store.RosterMember{}, abc...), member(4, "D", midweek(2), long)),
			want:    "A B C D A B C D A"},
		{name: "a member leaves: the others go on in order, history kept",
			members: []store.RosterMember{member(1, "A", long, long), member(2, "B", long, midweek(2)), member(3, "C", long, long)},
			want:    "A C A C A C A C A"},
		{name: "a member leaves after serving", members: []store.RosterMember{member(1, "A", long, long), member(2, "B", long, midweek(3)), member(3, "C", long, long)},
			want: "A B C A C A C A C"},
		{name: "a member who left and came back is at the end",
			members: []store.RosterMember{member(1, "A", long, long), member(2, "B", long, midweek(2)), member(3, "C", long, long),
				member(4, "D", long, long), member(5, "B", midweek(2).Add(time.Hour), long)},
			want: "A C D B A C D B A"},
		{name: "a swap exchanges two turns and nobody else's", members: abc, overrides: map[int]string{1: "B", 2: "A"},
			want: "B* A* C A B C A B C"},
		{name: "a swap across rounds", members: abc, overrides: map[int]string{2: "A", 4: "B"},
			want: "A A* C B* B C A B C"},
		{name: "a swap to someone away is ignored", members: abc, overrides: map[int]string{2: "C"},
			aways: []store.Away{awayFor("C", 2, 2)}, want: "A B C A B C A B C"},
		{name: "a swap to someone who left is ignored",
			members:   []store.RosterMember{member(1, "A", long, long), member(2, "B", long, long), member(3, "C", long, midweek(2))},
			overrides: map[int]string{3: "C"}, want: "A B A B A B A B A"},
		{name: "the series ends", members: abc, end: week(5), want: "A B C A"},
		{name: "no members", members: nil, want: "- - - - - - - - -"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rot := rotation{Start: rotStart, Rule: timespec.Recurrence{Freq: timespec.Weekly, Interval: 1}, End: tc.end,
				Schedule: store.Schedule{Members: tc.members, Aways: tc.aways, Skips: map[int64]bool{}, Overrides: map[int64]id.UserID{}}}
			for _, k := range tc.skips {
				rot.Skips[week(k).UnixMilli()] = true
			}
			for k, u := range tc.overrides {
				rot.Overrides[week(k).UnixMilli()] = id.UserID(u)
			}
			turns := rot.turns(rotStart, 9)
			if got := sequence(turns); got != tc.want {
				t.Errorf("turns = %q, want %q", got, tc.want)
			}
			// Every turn is on a Monday at 18:00, ends when the next begins,
			// and is not a skipped one.
			for i, tu := range turns {
				if rot.Skips[tu.At.UnixMilli()] {
					t.Errorf("turn %d at %v was skipped", i, tu.At)
				}
				if tu.At.Weekday() != time.Monday || tu.At.Hour() != 18 || tu.End.Sub(tu.At) != 7*24*time.Hour {
					t.Errorf("turn %d at %v, ends %v", i, tu.At, tu.End)
				}
			}
			// Asking from a later time gives the same turns: nothing depends
			// on where the listing starts.
			if len(turns) >= 6 {
				later := rot.turns(turns[3].At, 3)
				if sequence(later) != sequence(turns[3:6]) {
					t.Errorf("from turn 4: %q, want %q", sequence(later), sequence(turns[3:6]))
				}
			}
		})
	}
}

// TestRotationFairShares: over many rounds with random-looking absences,
// nobody does more than one turn more than anyone else who was as available.
func TestRotationFairShares(t *testing.T) {
	members := []store.RosterMember{member(1, "A", time.Time{}, time.Time{}), member(2, "B", time.Time{}, time.Time{}),
		member(3, "C", time.Time{}, time.Time{}), member(4, "D", time.Time{}, time.Time{})}
	var aways []store.Away
	for k := 3; k < 200; k += 17 { // everyone away once in a while, in turn
		u := string(rune('A' + k%4))
		aways = append(aways, store.Away{User: id.UserID(u), From: week(k).Add(-time.Hour), To: week(k + 2).Add(-time.Hour)})
	}
	rot := rotation{Start: rotStart, Rule: timespec.Recurrence{Freq: timespec.Weekly, Interval: 1},
		Schedule: store.Schedule{Members: members, Aways: aways}}
	counts := map[id.UserID]int{}
	for _, tu := range rot.turns(rotStart, 200) {
		if tu.User == "" {
			t.Fatalf("turn %v has nobody though only one member is away at a time", tu.At)
		}
		if rot.away(tu.User, tu.At) {
			t.Fatalf("turn %v given to %s, who is away", tu.At, tu.User)
		}
		counts[tu.User]++
	}
	lo, hi := 1<<30, 0
	for _, n := range counts {
		lo, hi = min(lo, n), max(hi, n)
	}
	if len(counts) != 4 || hi-lo > 1 {
		t.Errorf("turn counts %v: uneven", counts)
	}
}

func TestRotationLongSeries(t *testing.T) {
	// A daily roster replayed over many batches gives the same turns as the
	// plain order, across the batch boundary.
	rot := rotation{Start: rotStart, Rule: timespec.Recurrence{Freq: timespec.Daily, Interval: 1},
		Schedule: store.Schedule{Members: []store.RosterMember{member(1, "A", time.Time{}, time.Time{}), member(2, "B", time.Time{}, time.Time{})}}}
	turns := rot.turns(rotStart.AddDate(0, 0, 1000), 4)
	if got := sequence(turns); got != "A B A B" {
		t.Errorf("turns = %q", got)
	}
	if !turns[0].At.Equal(rotStart.AddDate(0, 0, 1000)) {
		t.Errorf("first turn at %v", turns[0].At)
	}
	far := rot.turns(rotStart.AddDate(0, 0, timespec.MaxReplay+10), 1)
	if len(far) != 0 {
		t.Errorf("turns beyond the replay limit: %v", far)
	}
}

// TestRotationReplayEdges: no turns are asked for, none are given; the
// replay stops after exactly timespec.MaxReplay turns; a series whose
// occurrences run out (years beyond the calendar) ends without a fault.
func TestRotationReplayEdges(t *testing.T) {
	ab := []store.RosterMember{member(1, "A", time.Time{}, time.Time{}), member(2, "B", time.Time{}, time.Time{})}
	daily := rotation{Start: rotStart, Rule: timespec.Recurrence{Freq: timespec.Daily, Interval: 1}, Schedule: store.Schedule{Members: ab}}
	if got := daily.turns(rotStart, 0); len(got) != 0 {
		t.Errorf("turns(0) = %v", got)
	}
	last := rotStart.AddDate(0, 0, timespec.MaxReplay-1)
	if got := daily.turns(last, 2); len(got) != 1 || !got[0].At.Equal(last) {
		t.Errorf("from the last replayed turn: %v, want just it", got)
	}
	if got := daily.turns(last.AddDate(0, 0, 1), 1); len(got) != 0 {
		t.Errorf("beyond the replay: %v", got)
	}
	// Every ten years: the occurrences come in one short batch (fewer than
	// asked for), whose last turn ends when the rule's next one begins.
	rare := rotation{Start: rotStart, Rule: timespec.Recurrence{Freq: timespec.Yearly, Interval: 10}, Schedule: store.Schedule{Members: ab}}
	got := rare.turns(rotStart, 2000)
	if len(got) < 20 || len(got) == 2000 {
		t.Fatalf("a rare series: %d turns", len(got))
	}
	for i, tu := range got {
		want := tu.At.AddDate(10, 0, 0)
		if !tu.End.Equal(want) || tu.User != ab[i%2].User {
			t.Errorf("turn %d: %+v, want %s ending %v", i, tu, ab[i%2].User, want)
		}
	}
}
