package timespec

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// friday17 is Friday 27 November 2026, 17:00 in Berlin.
var friday17 = time.Date(2026, 11, 27, 17, 0, 0, 0, berlin)

func TestMoment(t *testing.T) {
	at := func(loc *time.Location, y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, loc)
	}
	b := func(y int, m time.Month, d, hh, mm int) time.Time { return at(berlin, y, m, d, hh, mm) }
	nyFri17 := time.Date(2026, 11, 27, 17, 0, 0, 0, newYork)
	utcFri17 := time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		now  time.Time
		loc  *time.Location
		want time.Time
	}{
		// Relative.
		{"48h", friday17, berlin, friday17.Add(48 * time.Hour)},
		{"90m", friday17, berlin, b(2026, 11, 27, 18, 30)},
		{"in 3 days", friday17, berlin, b(2026, 11, 30, 17, 0)},
		{"In 3 Days", friday17, berlin, b(2026, 11, 30, 17, 0)},
		{"3 days from now", friday17, berlin, b(2026, 11, 30, 17, 0)},
		{"in two hours", friday17, berlin, b(2026, 11, 27, 19, 0)},
		{"in a week", friday17, berlin, b(2026, 12, 4, 17, 0)},
		{"2 weeks", friday17, berlin, b(2026, 12, 11, 17, 0)},
		{"1d12h", friday17, berlin, b(2026, 11, 29, 5, 0)},
		{"in 1d 2h 30m", friday17, berlin, b(2026, 11, 28, 19, 30)},
		// Dates and times.
		{"2026-12-01 18:00", friday17, berlin, b(2026, 12, 1, 18, 0)},
		{"2026-12-01T18:00", friday17, berlin, b(2026, 12, 1, 18, 0)},
		{"2026-12-01t18:00", friday17, berlin, b(2026, 12, 1, 18, 0)},
		{"2026-12-1 6pm", friday17, berlin, b(2026, 12, 1, 18, 0)},
		{"2026-12-01", friday17, berlin, b(2026, 12, 1, DefaultHour, 0)},
		{"2026-12-01 at 18:30", friday17, berlin, b(2026, 12, 1, 18, 30)},
		{"01.12.2026 18:00", friday17, berlin, b(2026, 12, 1, 18, 0)},
		{"1.12.2026", friday17, berlin, b(2026, 12, 1, DefaultHour, 0)},
		{"1 dec", friday17, berlin, b(2026, 12, 1, DefaultHour, 0)},
		{"dec 1 18:00", friday17, berlin, b(2026, 12, 1, 18, 0)},
		{"1 December 2026 18:00", friday17, berlin, b(2026, 12, 1, 18, 0)},
		{"Fri 4 Dec 18:00", friday17, berlin, b(2026, 12, 4, 18, 0)}, // Human's format
		{"friday, 4 dec, 18:00", friday17, berlin, b(2026, 12, 4, 18, 0)},
		{"5 jan", friday17, berlin, b(2027, 1, 5, DefaultHour, 0)},
		{"27 nov 18:00", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"27 nov 16:00", friday17, berlin, b(2027, 11, 27, 16, 0)},
		{"29 feb", friday17, berlin, b(2028, 2, 29, DefaultHour, 0)},
		// A date without a year is its next occurrence: 29 February can be
		// up to 8 years away (2096 to 2104: 2100 is no leap year).
		{"29 feb", b(2029, 3, 1, 12, 0), berlin, b(2032, 2, 29, DefaultHour, 0)},
		{"29 feb", b(2028, 3, 1, 12, 0), berlin, b(2032, 2, 29, DefaultHour, 0)},
		{"29 feb", b(2099, 3, 1, 12, 0), berlin, b(2104, 2, 29, DefaultHour, 0)},
		{"29 feb", b(2098, 3, 1, 12, 0), berlin, b(2104, 2, 29, DefaultHour, 0)},
		{"29 feb", b(2097, 3, 1, 12, 0), berlin, b(2104, 2, 29, DefaultHour, 0)},
		{"29 feb", b(2096, 3, 1, 12, 0), berlin, b(2104, 2, 29, DefaultHour, 0)},
		{"29 feb 18:00", b(2028, 2, 29, 17, 0), berlin, b(2028, 2, 29, 18, 0)},
		// Weekdays: the next such day strictly in the future.
		{"friday 18:00", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"friday 16:00", friday17, berlin, b(2026, 12, 4, 16, 0)},
		{"friday 17:00", friday17, berlin, b(2026, 12, 4, 17, 0)},
		{"fri 18:00", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"FRIDAY 18:00", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"friday", friday17, berlin, b(2026, 12, 4, DefaultHour, 0)},
		{"this friday 18:00", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"next friday 6pm", friday17, berlin, b(2026, 12, 4, 18, 0)},
		{"next monday", friday17, berlin, b(2026, 11, 30, DefaultHour, 0)},
		{"on monday at 9am", friday17, berlin, b(2026, 11, 30, 9, 0)},
		{"monday, 18:00", friday17, berlin, b(2026, 11, 30, 18, 0)},
		{"tues 10:00", friday17, berlin, b(2026, 12, 1, 10, 0)},
		{"thurs 10:00", friday17, berlin, b(2026, 12, 3, 10, 0)},
		{"sun 10:00", friday17, berlin, b(2026, 11, 29, 10, 0)},
		{"saturday 9", friday17, berlin, b(2026, 11, 28, 9, 0)},
		{"friday", time.Date(2026, 11, 27, 8, 0, 0, 0, berlin), berlin, b(2026, 11, 27, DefaultHour, 0)},
		{"next friday", time.Date(2026, 11, 26, 20, 0, 0, 0, berlin), berlin, b(2026, 11, 27, DefaultHour, 0)},
		{"next monday", time.Date(2026, 11, 30, 8, 0, 0, 0, berlin), berlin, b(2026, 12, 7, DefaultHour, 0)},
		// Today, tomorrow and bare times.
		{"tomorrow 9:00", friday17, berlin, b(2026, 11, 28, 9, 0)},
		{"tomorrow", friday17, berlin, b(2026, 11, 28, DefaultHour, 0)},
		{"tomorrow at 9", friday17, berlin, b(2026, 11, 28, 9, 0)},
		{"Tomorrow 9 AM", friday17, berlin, b(2026, 11, 28, 9, 0)},
		{"today 18:00", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"18:00", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"at 18:00", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"16:00", friday17, berlin, b(2026, 11, 28, 16, 0)},
		{"17:00", friday17, berlin, b(2026, 11, 28, 17, 0)}, // exactly now: tomorrow
		{"6pm", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"6 pm", friday17, berlin, b(2026, 11, 27, 18, 0)},
		{"6:30pm", friday17, berlin, b(2026, 11, 27, 18, 30)},
		{"6:30 p.m.", friday17, berlin, b(2026, 11, 27, 18, 30)},
		{"12am", friday17, berlin, b(2026, 11, 28, 0, 0)},
		{"1am", friday17, berlin, b(2026, 11, 28, 1, 0)},
		{"1pm", friday17, berlin, b(2026, 11, 28, 13, 0)},
		{"11pm", friday17, berlin, b(2026, 11, 27, 23, 0)},
		{"12pm", friday17, berlin, b(2026, 11, 28, 12, 0)},
		{"noon", friday17, berlin, b(2026, 11, 28, 12, 0)},
		{"tomorrow noon", friday17, berlin, b(2026, 11, 28, 12, 0)},
		{"0:30", friday17, berlin, b(2026, 11, 28, 0, 30)},
		{"23:59", friday17, berlin, b(2026, 11, 27, 23, 59)},
		// Other zones; now given in another zone than loc.
		{"friday 18:00", nyFri17, newYork, at(newYork, 2026, 11, 27, 18, 0)},
		{"18:00", friday17, newYork, at(newYork, 2026, 11, 27, 18, 0)}, // 11:00 in New York
		{"10:00", friday17, newYork, at(newYork, 2026, 11, 28, 10, 0)},
		{"tomorrow 9:00", utcFri17, time.UTC, at(time.UTC, 2026, 11, 28, 9, 0)},
		{"2026-12-01 18:00", utcFri17, nil, at(time.UTC, 2026, 12, 1, 18, 0)},
		// Exactly MaxDuration ahead is allowed (3653 days: 2036-11-27 17:00
		// is the same wall time and offset as now).
		{"2036-11-27 17:00", friday17, berlin, friday17.Add(MaxDuration)},
		{"in 3653 days", friday17, berlin, friday17.Add(MaxDuration)},
		// Year end.
		{"tomorrow 9:00", time.Date(2026, 12, 31, 20, 0, 0, 0, berlin), berlin, b(2027, 1, 1, 9, 0)},
		{"friday", time.Date(2026, 12, 31, 20, 0, 0, 0, berlin), berlin, b(2027, 1, 1, 9, 0)},
	} {
		got, err := Moment(tc.in, tc.now, tc.loc)
		if err != nil {
			t.Errorf("Moment(%q, %v): %v", tc.in, tc.now, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("Moment(%q, %v) = %v, want %v", tc.in, tc.now, got, tc.want)
		}
		wantLoc := tc.loc
		if wantLoc == nil {
			wantLoc = time.UTC
		}
		if got.Location() != wantLoc {
			t.Errorf("Moment(%q) is in %v, want %v", tc.in, got.Location(), wantLoc)
		}
	}
}

// Typed wall-clock times around DST changes, in both zones.
func TestMomentDST(t *testing.T) {
	utc := func(m time.Month, d, hh, mm int) time.Time { return time.Date(2026, m, d, hh, mm, 0, 0, time.UTC) }
	for _, tc := range []struct {
		in   string
		now  time.Time
		loc  *time.Location
		want time.Time
	}{
		// Spring-forward gap: forward by the gap, in both zones.
		{"2026-03-29 02:30", utc(3, 20, 12, 0), berlin, utc(3, 29, 1, 30)}, // 03:30 CEST
		{"2026-03-08 02:30", utc(3, 1, 12, 0), newYork, utc(3, 8, 7, 30)},  // 03:30 EDT
		// Just before and after the gap.
		{"2026-03-29 01:59", utc(3, 20, 12, 0), berlin, utc(3, 29, 0, 59)},
		{"2026-03-29 03:00", utc(3, 20, 12, 0), berlin, utc(3, 29, 1, 0)},
		// Fall-back overlap: the earlier instant, in both zones.
		{"2026-10-25 02:30", utc(10, 20, 12, 0), berlin, utc(10, 25, 0, 30)}, // 02:30 CEST
		{"2026-11-01 01:30", utc(10, 20, 12, 0), newYork, utc(11, 1, 5, 30)}, // 01:30 EDT
		// Days are calendar days: "in 1 day" keeps the clock, "24h" does not.
		{"in 1 day", time.Date(2026, 3, 28, 12, 0, 0, 0, berlin), berlin, time.Date(2026, 3, 29, 12, 0, 0, 0, berlin)},
		{"24h", time.Date(2026, 3, 28, 12, 0, 0, 0, berlin), berlin, time.Date(2026, 3, 29, 13, 0, 0, 0, berlin)},
		{"in 1 week", time.Date(2026, 10, 30, 18, 0, 0, 0, newYork), newYork, time.Date(2026, 11, 6, 18, 0, 0, 0, newYork)},
		{"in 1 day", time.Date(2026, 3, 28, 2, 30, 0, 0, berlin), berlin, utc(3, 29, 1, 30)}, // lands in the gap
		// Weekday across the change.
		{"sunday 12:00", time.Date(2026, 3, 27, 12, 0, 0, 0, berlin), berlin, time.Date(2026, 3, 29, 12, 0, 0, 0, berlin)},
		{"sunday 2:30", time.Date(2026, 3, 27, 12, 0, 0, 0, berlin), berlin, utc(3, 29, 1, 30)},
		// Hours and minutes are exact even from the second of two 02:30s
		// (the wall clock would read the first one).
		{"90m", utc(10, 25, 1, 30).In(berlin), berlin, utc(10, 25, 3, 0)},
		{"in 2h", utc(10, 25, 1, 30).In(berlin), berlin, utc(10, 25, 3, 30)},
		{"in 1 day", utc(10, 25, 1, 30).In(berlin), berlin, utc(10, 26, 1, 30)}, // 02:30 CET the next day
	} {
		got, err := Moment(tc.in, tc.now, tc.loc)
		if err != nil {
			t.Errorf("Moment(%q): %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("Moment(%q, %v, %v) = %v (%v), want %v", tc.in, tc.now, tc.loc, got, got.UTC(), tc.want.UTC())
		}
	}
}

func TestMomentRejected(t *testing.T) {
	for _, tc := range []struct {
		in, msg string
		kind    error
	}{
		{"", "Tell me a time", nil},
		{"tomorrow tomorrow", `I understood "tomorrow" but not "tomorrow"`, nil},
		{"friday friday", `but not "friday"`, nil},
		{"tomorrow 18:00 18:00", `but not "18:00"`, nil},
		{"25:00", "isn't a time of day", nil},
		{"24:00", "isn't a time of day", nil},
		{"18:60", "minutes go up to 59", nil},
		{"13pm", "hours 1 to 12", nil},
		{"0am", "hours 1 to 12", nil},
		{"18:00pm", "hours 1 to 12", nil},
		{"9:5", "couldn't read", nil},
		{"2026-13-01", "isn't a real date", nil},
		{"2026-02-30", "February 2026 has 28 days", nil},
		{"2026-00-10", "isn't a real date", nil},
		{"31.11.2026", "November 2026 has 30 days", nil},
		{"30 feb", "at most 29 days", nil},
		{"32 dec", "at most 31 days", nil},
		{"friday 18:00 junk", `I understood "friday 18:00" but not "junk". Try just "friday 18:00".`, nil},
		{"fridya 18:00", `I couldn't read "fridya 18:00" as a time. Try "48h", "friday 18:00" or "2026-12-01 18:00".`, nil},
		{"-3h", "must be positive", nil},
		{"in -3h", "must be positive", nil},
		{"0m", "no time at all", nil},
		{"in 0 days", "no time at all", nil},
		{"99999999d", "10 years", ErrTooFar},
		{"in 4000 days", "10 years", ErrTooFar},
		{"2040-01-01", "more than 10 years away", ErrTooFar},
		{"2036-11-27 17:01", "more than 10 years away", ErrTooFar}, // MaxDuration and a minute
		{"in 3654 days", "10 years", ErrTooFar},
		{"in", `"in" needs a length of time`, nil},
		{"in 3 bananas", `as a length of time after "in"`, nil},
		{"in friday", `as a length of time after "in"`, nil},
		{"3 bananas from now", `as a length of time after "from now"`, nil},
		{"in 3 months", "Months vary", nil},
		{"1.5h", "fractions", nil},
		{"30s", "smallest unit", nil},
		{"every", "couldn't read", nil},
		{"every friday", "couldn't read", nil},
		{"today", "Which time today", nil},
		{"today 9:00", "has already passed", ErrPast},
		{"today 17:00", "has already passed", ErrPast},
		{"2026-11-27 16:59", "has already passed", ErrPast},
		{"2020-01-01", "has already passed", ErrPast},
		{"12/01/2026", "could be read two ways", nil},
		{"12/1", "could be read two ways", nil},
		{"friday at", `"at" needs a time`, nil},
		{"at", `"at" needs a time`, nil},
		{"next", `"next" needs a weekday`, nil},
		{"next week", `"next" needs a weekday`, nil},
		{"this", `"this" needs a weekday`, nil},
		{"on", "couldn't read", nil},
		{"on junk", "couldn't read", nil},
		{"18", "couldn't read", nil},
		{"yesterday", "couldn't read", nil},
		{"tonight", "couldn't read", nil},
		{"fri 1 dec", "is a Tuesday, not a Friday", nil},
		{"mon 1 dec 2027 10:00", "is a Wednesday, not a Monday", nil},
		{"friday,", "but not", nil},
		{"friday, junk", `I understood "friday" but not "junk"`, nil},
		{"2026-12-01T18:00 junk", `I understood "2026-12-01T18:00" but not "junk"`, nil},
		{", friday", "couldn't read", nil},
		{"１８:００", "couldn't read", nil},
		{"friday 18:00\x00", "characters that aren't text", nil},
		{strings.Repeat("friday ", 20), "too long to be a time", nil},
	} {
		_, err := Moment(tc.in, friday17, berlin)
		if err == nil {
			t.Errorf("Moment(%q) succeeded", tc.in)
			continue
		}
		e := friendly(t, tc.in, err)
		if !strings.Contains(e.Error(), tc.msg) {
			t.Errorf("Moment(%q): message %q does not contain %q", tc.in, e.Error(), tc.msg)
		}
		if tc.kind != nil && !errors.Is(err, tc.kind) {
			t.Errorf("Moment(%q): %v is not %v", tc.in, err, tc.kind)
		}
		if tc.kind == nil && (errors.Is(err, ErrPast) || errors.Is(err, ErrTooFar)) {
			t.Errorf("Moment(%q): unexpected kind in %v", tc.in, err)
		}
	}
}

// What Human prints, Moment reads back (for times within the coming year).
func TestMomentReadsHuman(t *testing.T) {
	for _, loc := range []*time.Location{berlin, newYork, time.UTC} {
		now := friday17.In(loc)
		for h := 1; h < 24*300; h += 37 {
			want := now.Add(time.Duration(h) * time.Hour).Truncate(time.Minute)
			s := Human(want, loc).String()
			got, err := Moment(s, now, loc)
			if err != nil {
				t.Fatalf("Moment(Human(%v) = %q): %v", want, s, err)
			}
			if !got.Equal(want) {
				t.Errorf("Moment(Human(%v) = %q) = %v", want, s, got)
			}
		}
	}
}

func TestDate(t *testing.T) {
	d := func(loc *time.Location, y int, m time.Month, day int) time.Time {
		return time.Date(y, m, day, 0, 0, 0, 0, loc)
	}
	for _, tc := range []struct {
		in   string
		now  time.Time
		loc  *time.Location
		want time.Time
	}{
		{"2026-12-01", friday17, berlin, d(berlin, 2026, 12, 1)},
		{"2026-12-1", friday17, berlin, d(berlin, 2026, 12, 1)},
		{"1.12.2026", friday17, berlin, d(berlin, 2026, 12, 1)},
		{"today", friday17, berlin, d(berlin, 2026, 11, 27)},
		{"tomorrow", friday17, berlin, d(berlin, 2026, 11, 28)},
		{"friday", friday17, berlin, d(berlin, 2026, 11, 27)}, // today included
		{"Fri", friday17, berlin, d(berlin, 2026, 11, 27)},
		{"next friday", friday17, berlin, d(berlin, 2026, 12, 4)},
		{"this friday", friday17, berlin, d(berlin, 2026, 11, 27)},
		{"on monday", friday17, berlin, d(berlin, 2026, 11, 30)},
		{"thursday", friday17, berlin, d(berlin, 2026, 12, 3)},
		{"1 dec", friday17, berlin, d(berlin, 2026, 12, 1)},
		{"27 nov", friday17, berlin, d(berlin, 2026, 11, 27)},
		{"26 nov", friday17, berlin, d(berlin, 2027, 11, 26)},
		{"Tue 1 Dec", friday17, berlin, d(berlin, 2026, 12, 1)},
		{"2026-01-01", friday17, berlin, d(berlin, 2026, 1, 1)}, // past dates are fine here
		{"2017-01-01", friday17, berlin, d(berlin, 2017, 1, 1)},
		{"2026-12-01", friday17, newYork, d(newYork, 2026, 12, 1)},
		{"2026-12-01", friday17, nil, d(time.UTC, 2026, 12, 1)},
		// 23:30 in New York is already Saturday in Berlin: today is per loc.
		{"today", time.Date(2026, 11, 27, 23, 30, 0, 0, newYork), berlin, d(berlin, 2026, 11, 28)},
		{"today", time.Date(2026, 11, 27, 23, 30, 0, 0, newYork), newYork, d(newYork, 2026, 11, 27)},
		// DST starts at midnight in Santiago: the day starts at 01:00.
		{"2026-09-06", friday17, santiago, time.Date(2026, 9, 6, 1, 0, 0, 0, santiago)},
		{"2026-03-29", friday17, berlin, d(berlin, 2026, 3, 29)},
	} {
		got, err := Date(tc.in, tc.now, tc.loc)
		if err != nil {
			t.Errorf("Date(%q): %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("Date(%q, %v) = %v, want %v", tc.in, tc.now, got, tc.want)
		}
	}
	// Santiago's 2026-09-06 really has no midnight (else the case above
	// proves nothing).
	if mid := time.Date(2026, 9, 6, 0, 0, 0, 0, santiago); mid.Hour() == 0 && mid.Day() == 6 {
		t.Errorf("expected no midnight in Santiago on 2026-09-06, got %v", mid)
	}
}

func TestDateRejected(t *testing.T) {
	for _, tc := range []struct {
		in, msg string
	}{
		{"", "Tell me a date"},
		{"2026-13-01", "isn't a real date"},
		{"2026-02-29", "February 2026 has 28 days"},
		{"30 feb", "at most 29 days"},
		{"2026-12-01 18:00", `I understood "2026-12-01" but not "18:00"`},
		{"today tomorrow", `but not "tomorrow"`},
		{"next", `"next" needs a weekday`},
		{"someday", `I couldn't read "someday" as a date. Try "2026-12-01", "tomorrow" or "monday".`},
		{"12/01/2026", "could be read two ways"},
		{"2040-01-01", "more than 10 years"},
		{"2015-01-01", "more than 10 years"},
		{"0000-01-01", "more than 10 years"}, // found by FuzzMoment: Sub saturates
		{"9999-12-31", "more than 10 years"},
		{"fri 1 dec 2026", "is a Tuesday, not a Friday"},
		{"2026-12-01T18:00", `I understood "2026-12-01" but not "18:00"`},
		{"3d", "couldn't read"},
		{"18:00", "couldn't read"},
	} {
		_, err := Date(tc.in, friday17, berlin)
		if err == nil {
			t.Errorf("Date(%q) succeeded", tc.in)
			continue
		}
		e := friendly(t, tc.in, err)
		if !strings.Contains(e.Error(), tc.msg) {
			t.Errorf("Date(%q): message %q does not contain %q", tc.in, e.Error(), tc.msg)
		}
	}
}

func TestWallTime(t *testing.T) {
	utc := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name string
		got  time.Time
		want time.Time
	}{
		{"berlin normal", wallTime(2026, 6, 1, 18, 0, 0, 0, berlin), utc(2026, 6, 1, 16, 0)},
		{"berlin gap", wallTime(2026, 3, 29, 2, 30, 0, 0, berlin), utc(2026, 3, 29, 1, 30)},
		{"berlin gap start", wallTime(2026, 3, 29, 2, 0, 0, 0, berlin), utc(2026, 3, 29, 1, 0)},
		{"berlin overlap", wallTime(2026, 10, 25, 2, 30, 0, 0, berlin), utc(2026, 10, 25, 0, 30)},
		{"new york gap", wallTime(2026, 3, 8, 2, 30, 0, 0, newYork), utc(2026, 3, 8, 7, 30)},
		{"new york overlap", wallTime(2026, 11, 1, 1, 30, 0, 0, newYork), utc(2026, 11, 1, 5, 30)},
		{"new york after overlap", wallTime(2026, 11, 1, 2, 0, 0, 0, newYork), utc(2026, 11, 1, 7, 0)},
		{"utc", wallTime(2026, 3, 29, 2, 30, 0, 0, time.UTC), utc(2026, 3, 29, 2, 30)},
		{"normalises day 32", wallTime(2026, 12, 32, 9, 0, 0, 0, time.UTC), utc(2027, 1, 1, 9, 0)},
		// Moscow moved back an hour for good on 26 October 2014: 01:30
		// came twice, first at +04; no later change brings +04 back, so it
		// is found only as the offset before the change.
		{"moscow overlap, for good", wallTime(2014, 10, 26, 1, 30, 0, 0, moscow), utc(2014, 10, 25, 21, 30)},
		{"moscow after the change", wallTime(2014, 10, 26, 2, 0, 0, 0, moscow), utc(2014, 10, 25, 23, 0)},
		// Samoa skipped 30 December 2011 altogether: a 24-hour gap.
		{"apia skipped day", wallTime(2011, 12, 30, 18, 0, 0, 0, apia), time.Date(2011, 12, 31, 18, 0, 0, 0, apia)},
	} {
		if !tc.got.Equal(tc.want) {
			t.Errorf("%s: got %v (%v), want %v", tc.name, tc.got, tc.got.UTC(), tc.want.UTC())
		}
	}
}
