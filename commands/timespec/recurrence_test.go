package timespec

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRecurrence(t *testing.T) {
	tue := WeekdaysOf(time.Tuesday)
	for _, tc := range []struct {
		in   string
		want Recurrence
		str  string // canonical String
		rule string
	}{
		{"day", Recurrence{Daily, 1, 0}, "every day", "FREQ=DAILY"},
		{"every day", Recurrence{Daily, 1, 0}, "every day", "FREQ=DAILY"},
		{"daily", Recurrence{Daily, 1, 0}, "every day", "FREQ=DAILY"},
		{"3 days", Recurrence{Daily, 3, 0}, "every 3 days", "FREQ=DAILY;INTERVAL=3"},
		{"every three days", Recurrence{Daily, 3, 0}, "every 3 days", "FREQ=DAILY;INTERVAL=3"},
		{"week", Recurrence{Weekly, 1, 0}, "every week", "FREQ=WEEKLY"},
		{"weekly", Recurrence{Weekly, 1, 0}, "every week", "FREQ=WEEKLY"},
		{"Every Week", Recurrence{Weekly, 1, 0}, "every week", "FREQ=WEEKLY"},
		{"2 weeks", Recurrence{Weekly, 2, 0}, "every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"},
		{"every other week", Recurrence{Weekly, 2, 0}, "every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"},
		{"fortnight", Recurrence{Weekly, 2, 0}, "every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"},
		{"every fortnight", Recurrence{Weekly, 2, 0}, "every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"},
		{"fortnightly", Recurrence{Weekly, 2, 0}, "every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"},
		{"2 fortnights", Recurrence{Weekly, 4, 0}, "every 4 weeks", "FREQ=WEEKLY;INTERVAL=4"},
		{"month", Recurrence{Monthly, 1, 0}, "every month", "FREQ=MONTHLY"},
		{"monthly", Recurrence{Monthly, 1, 0}, "every month", "FREQ=MONTHLY"},
		{"every 2 months", Recurrence{Monthly, 2, 0}, "every 2 months", "FREQ=MONTHLY;INTERVAL=2"},
		{"year", Recurrence{Yearly, 1, 0}, "every year", "FREQ=YEARLY"},
		{"annually", Recurrence{Yearly, 1, 0}, "every year", "FREQ=YEARLY"},
		{"tuesday", Recurrence{Weekly, 1, tue}, "every tuesday", "FREQ=WEEKLY;BYDAY=TU"},
		{"every Tuesday", Recurrence{Weekly, 1, tue}, "every tuesday", "FREQ=WEEKLY;BYDAY=TU"},
		{"tuesdays", Recurrence{Weekly, 1, tue}, "every tuesday", "FREQ=WEEKLY;BYDAY=TU"},
		{"tue", Recurrence{Weekly, 1, tue}, "every tuesday", "FREQ=WEEKLY;BYDAY=TU"},
		{"2 tuesdays", Recurrence{Weekly, 2, tue}, "every 2 weeks on tuesday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"},
		{"every other tuesday", Recurrence{Weekly, 2, tue}, "every 2 weeks on tuesday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"},
		{"every 2 weeks on tuesday", Recurrence{Weekly, 2, tue}, "every 2 weeks on tuesday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"},
		{"weekly on tuesday", Recurrence{Weekly, 1, tue}, "every tuesday", "FREQ=WEEKLY;BYDAY=TU"},
		{"fortnightly on tuesday", Recurrence{Weekly, 2, tue}, "every 2 weeks on tuesday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"},
		{"monday and thursday", Recurrence{Weekly, 1, WeekdaysOf(time.Monday, time.Thursday)}, "every monday and thursday", "FREQ=WEEKLY;BYDAY=MO,TH"},
		{"every thu and mon", Recurrence{Weekly, 1, WeekdaysOf(time.Monday, time.Thursday)}, "every monday and thursday", "FREQ=WEEKLY;BYDAY=MO,TH"},
		{"mon, wed and fri", Recurrence{Weekly, 1, WeekdaysOf(time.Monday, time.Wednesday, time.Friday)}, "every monday, wednesday and friday", "FREQ=WEEKLY;BYDAY=MO,WE,FR"},
		{"mon,wed,fri", Recurrence{Weekly, 1, WeekdaysOf(time.Monday, time.Wednesday, time.Friday)}, "every monday, wednesday and friday", "FREQ=WEEKLY;BYDAY=MO,WE,FR"},
		{"sunday, and saturday", Recurrence{Weekly, 1, WeekdaysOf(time.Saturday, time.Sunday)}, "every saturday and sunday", "FREQ=WEEKLY;BYDAY=SA,SU"},
		{"2 weeks on mon and thu", Recurrence{Weekly, 2, WeekdaysOf(time.Monday, time.Thursday)}, "every 2 weeks on monday and thursday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"},
		{"weekday", Recurrence{Weekly, 1, MondayToFriday}, "every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"every weekday", Recurrence{Weekly, 1, MondayToFriday}, "every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"weekdays", Recurrence{Weekly, 1, MondayToFriday}, "every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"monday, tuesday, wednesday, thursday and friday", Recurrence{Weekly, 1, MondayToFriday}, "every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"every 2 weeks on weekdays", Recurrence{Weekly, 2, MondayToFriday}, "every 2 weeks on weekdays", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR"},
		{"weekdays and saturday", Recurrence{Weekly, 1, MondayToFriday | WeekdaysOf(time.Saturday)}, "every monday, tuesday, wednesday, thursday, friday and saturday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA"},
		{"every 3653 days", Recurrence{Daily, 3653, 0}, "every 3653 days", "FREQ=DAILY;INTERVAL=3653"},
		{"every 10 years", Recurrence{Yearly, 10, 0}, "every 10 years", "FREQ=YEARLY;INTERVAL=10"},
		{"saturdays", Recurrence{Weekly, 1, WeekdaysOf(time.Saturday)}, "every saturday", "FREQ=WEEKLY;BYDAY=SA"},
		{"sundays", Recurrence{Weekly, 1, WeekdaysOf(time.Sunday)}, "every sunday", "FREQ=WEEKLY;BYDAY=SU"},
		{"every 1 weekday", Recurrence{Weekly, 1, MondayToFriday}, "every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"},
		{"every one week", Recurrence{Weekly, 1, 0}, "every week", "FREQ=WEEKLY"},
	} {
		got, err := ParseRecurrence(tc.in)
		if err != nil {
			t.Errorf("ParseRecurrence(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseRecurrence(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if s := got.String(); s != tc.str {
			t.Errorf("ParseRecurrence(%q).String() = %q, want %q", tc.in, s, tc.str)
		}
		if s := got.RRule(); s != tc.rule {
			t.Errorf("ParseRecurrence(%q).RRule() = %q, want %q", tc.in, s, tc.rule)
		}
		if back, err := ParseRecurrence(got.String()); err != nil || back != got {
			t.Errorf("ParseRecurrence(%q) = %+v, %v; want %+v", got.String(), back, err, got)
		}
		if back, err := ParseRRule(got.RRule()); err != nil || back != got {
			t.Errorf("ParseRRule(%q) = %+v, %v; want %+v", got.RRule(), back, err, got)
		}
	}
}

func TestParseRecurrenceRejected(t *testing.T) {
	for _, tc := range []struct {
		in, msg string
		kind    error
	}{
		{"", "Tell me a repeat", nil},
		{"every", `"every" needs a period`, nil},
		{"every 0 weeks", "never comes round", nil},
		{"every 2", "needs a unit", nil},
		{"2 weekdays", "I can't repeat", nil},
		{"every 3654 days", "at most 10 years apart", ErrTooFar},
		{"every 99999 days", "at most 10 years apart", ErrTooFar},
		{"every 11 years", "at most 10 years apart", ErrTooFar},
		{"every 522 weeks", "at most 10 years apart", ErrTooFar},
		{"every week junk", `I understood "every week" but not "junk". Try just "every week".`, nil},
		{"every tuesday and", "a weekday should follow", nil},
		{"every tuesday,", "a weekday should follow", nil},
		{"every tuesday 18:00", `but not "18:00"`, nil},
		{"every 2 weekly", `say "every 2 weeks"`, nil},
		{"every week on", `"on" needs a weekday`, nil},
		{"every 2 weeks on monday and", "a weekday should follow", nil},
		{"every month on monday", `but not "on monday"`, nil},
		{"every day on monday", `but not "on monday"`, nil},
		{"hourly", "couldn't read", nil},
		{"every hour", "couldn't read", nil},
		{"every every week", "couldn't read", nil},
		{"every a week", "couldn't read", nil},
		{"every -2 weeks", "couldn't read", nil},
		{"every 2.5 weeks", "couldn't read", nil},
		{"on monday", "couldn't read", nil},
		{"fridya", `I couldn't read "fridya" as a repeat. Try "week", "2 weeks", "tuesday" or "month".`, nil},
	} {
		_, err := ParseRecurrence(tc.in)
		if err == nil {
			t.Errorf("ParseRecurrence(%q) succeeded", tc.in)
			continue
		}
		e := friendly(t, tc.in, err)
		if !strings.Contains(e.Error(), tc.msg) {
			t.Errorf("ParseRecurrence(%q): message %q does not contain %q", tc.in, e.Error(), tc.msg)
		}
		if tc.kind != nil && !errors.Is(err, tc.kind) {
			t.Errorf("ParseRecurrence(%q): %v is not %v", tc.in, err, tc.kind)
		}
	}
}

func TestParseRRule(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Recurrence
	}{
		{"FREQ=WEEKLY;BYDAY=TU", Recurrence{Weekly, 1, WeekdaysOf(time.Tuesday)}},
		{"RRULE:FREQ=WEEKLY;INTERVAL=2", Recurrence{Weekly, 2, 0}},
		{"FREQ=WEEKLY;WKST=MO;INTERVAL=1;BYDAY=FR,MO", Recurrence{Weekly, 1, WeekdaysOf(time.Monday, time.Friday)}},
		{" FREQ=DAILY ", Recurrence{Daily, 1, 0}},
	} {
		got, err := ParseRRule(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseRRule(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{
		"", "garbage", "FREQ=HOURLY", "FREQ=WEEKLY;COUNT=3", "FREQ=WEEKLY;UNTIL=20261201T000000Z",
		"FREQ=MONTHLY;BYDAY=1MO", "FREQ=DAILY;BYDAY=MO", "FREQ=MONTHLY;BYMONTHDAY=-1",
		"FREQ=DAILY;INTERVAL=5000", "FREQ=WEEKLY;WKST=SU", "DTSTART:20261201T180000Z\nRRULE:FREQ=DAILY",
		"FREQ=DAILY;DTSTART=20261201T180000Z", "INTERVAL=2",
	} {
		if r, err := ParseRRule(in); err == nil {
			t.Errorf("ParseRRule(%q) = %+v, want an error", in, r)
		}
	}
	// Every part RRule never writes is refused, alone and beside another:
	// two of them must not cancel out.
	for _, part := range []string{"BYMONTH=1", "BYMONTHDAY=1", "BYYEARDAY=1", "BYWEEKNO=1", "BYHOUR=1", "BYMINUTE=1",
		"BYSECOND=1", "BYEASTER=0", "BYSETPOS=1"} {
		for _, in := range []string{"FREQ=YEARLY;" + part, "FREQ=YEARLY;BYSETPOS=1;" + part, "FREQ=YEARLY;" + part + ";BYEASTER=0"} {
			if r, err := ParseRRule(in); err == nil {
				t.Errorf("ParseRRule(%q) = %+v, want an error", in, r)
			}
		}
	}
}

// TestWeekdaysHas: only the seven days can be in a set, whatever its
// other bits say.
func TestWeekdaysHas(t *testing.T) {
	all := Weekdays(0xff)
	for d := time.Weekday(-1); d <= 8; d++ {
		if want := d >= time.Sunday && d <= time.Saturday; all.Has(d) != want {
			t.Errorf("Weekdays(0xff).Has(%d) = %v, want %v", d, all.Has(d), want)
		}
	}
	if WeekdaysOf(time.Sunday).Has(time.Monday) || !WeekdaysOf(time.Sunday).Has(time.Sunday) {
		t.Error("a set of Sunday")
	}
}

func TestZeroRecurrence(t *testing.T) {
	var r Recurrence
	start := time.Date(2026, 12, 1, 18, 0, 0, 0, berlin)
	if !r.IsZero() || r.String() != "" || r.RRule() != "" || r.Occurrences(start, start, 3) != nil {
		t.Errorf("zero Recurrence: IsZero %v, String %q, RRule %q, Occurrences %v",
			r.IsZero(), r.String(), r.RRule(), r.Occurrences(start, start, 3))
	}
	if _, ok := r.Next(start, start); ok {
		t.Error("zero Recurrence has a Next")
	}
	weekly := Recurrence{Weekly, 1, 0}
	if weekly.IsZero() {
		t.Error("weekly IsZero")
	}
	for _, bad := range []Recurrence{{Daily, 0, 0}, {Daily, 1, WeekdaysOf(time.Monday)}, {Weekly, 1, 1 << 7}, {Freq(9), 1, 0}, {Yearly, 11, 0}} {
		if bad.String() != "" || bad.RRule() != "" || bad.Occurrences(start, start, 3) != nil {
			t.Errorf("invalid %+v: String %q, RRule %q", bad, bad.String(), bad.RRule())
		}
	}
	if weekly.Occurrences(time.Time{}, start, 3) != nil || weekly.Occurrences(start, start, 0) != nil {
		t.Error("zero start or n gave occurrences")
	}
}

// series lists the expected occurrences as wall-clock times in loc.
func series(loc *time.Location, stamps ...string) []time.Time {
	var out []time.Time
	for _, s := range stamps {
		t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			panic(err)
		}
		out = append(out, t)
	}
	return out
}

func TestOccurrences(t *testing.T) {
	utc := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, time.UTC) }
	weekly := Recurrence{Weekly, 1, 0}
	daily := Recurrence{Daily, 1, 0}
	for _, tc := range []struct {
		name  string
		r     Recurrence
		start time.Time
		from  time.Time // zero: start
		n     int
		want  []time.Time
	}{
		{"weekly 18:00 across Berlin spring-forward", weekly, time.Date(2026, 3, 20, 18, 0, 0, 0, berlin), time.Time{}, 3,
			[]time.Time{utc(2026, 3, 20, 17, 0), utc(2026, 3, 27, 17, 0), utc(2026, 4, 3, 16, 0)}},
		{"weekly 18:00 across Berlin fall-back", weekly, time.Date(2026, 10, 23, 18, 0, 0, 0, berlin), time.Time{}, 2,
			[]time.Time{utc(2026, 10, 23, 16, 0), utc(2026, 10, 30, 17, 0)}},
		{"weekly 18:00 across New York spring-forward", weekly, time.Date(2026, 3, 6, 18, 0, 0, 0, newYork), time.Time{}, 2,
			[]time.Time{utc(2026, 3, 6, 23, 0), utc(2026, 3, 13, 22, 0)}},
		{"weekly 18:00 across New York fall-back", weekly, time.Date(2026, 10, 30, 18, 0, 0, 0, newYork), time.Time{}, 2,
			[]time.Time{utc(2026, 10, 30, 22, 0), utc(2026, 11, 6, 23, 0)}},
		// A daily 02:30 meets the gap: that day it is 03:30, then 02:30 again.
		{"daily 02:30 across Berlin gap", daily, time.Date(2026, 3, 27, 2, 30, 0, 0, berlin), time.Time{}, 4,
			[]time.Time{utc(2026, 3, 27, 1, 30), utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1, 30), utc(2026, 3, 30, 0, 30)}},
		{"daily 02:30 across New York gap", daily, time.Date(2026, 3, 7, 2, 30, 0, 0, newYork), time.Time{}, 3,
			[]time.Time{utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)}},
		// An ambiguous time at fall-back is the earlier one.
		{"daily 02:30 across Berlin overlap", daily, time.Date(2026, 10, 24, 2, 30, 0, 0, berlin), time.Time{}, 3,
			[]time.Time{utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)}},
		{"daily 01:30 across New York overlap", daily, time.Date(2026, 10, 31, 1, 30, 0, 0, newYork), time.Time{}, 3,
			[]time.Time{utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)}},
		// Samoa skipped 30 December 2011: that day's 18:00 would be 31
		// December's, so it is dropped rather than repeated.
		{"daily across a skipped day", daily, time.Date(2011, 12, 28, 18, 0, 0, 0, apia), time.Time{}, 4,
			series(apia, "2011-12-28 18:00", "2011-12-29 18:00", "2011-12-31 18:00", "2012-01-01 18:00")},
		{"every 3 days", Recurrence{Daily, 3, 0}, time.Date(2026, 12, 30, 9, 0, 0, 0, berlin), time.Time{}, 3,
			series(berlin, "2026-12-30 09:00", "2027-01-02 09:00", "2027-01-05 09:00")},
		{"monthly on the 31st skips short months", Recurrence{Monthly, 1, 0}, time.Date(2026, 1, 31, 18, 0, 0, 0, berlin), time.Time{}, 4,
			series(berlin, "2026-01-31 18:00", "2026-03-31 18:00", "2026-05-31 18:00", "2026-07-31 18:00")},
		{"monthly on the 30th skips February", Recurrence{Monthly, 1, 0}, time.Date(2026, 1, 30, 18, 0, 0, 0, berlin), time.Time{}, 3,
			series(berlin, "2026-01-30 18:00", "2026-03-30 18:00", "2026-04-30 18:00")},
		{"every 2 months", Recurrence{Monthly, 2, 0}, time.Date(2026, 11, 15, 18, 0, 0, 0, berlin), time.Time{}, 3,
			series(berlin, "2026-11-15 18:00", "2027-01-15 18:00", "2027-03-15 18:00")},
		{"yearly on 29 February", Recurrence{Yearly, 1, 0}, time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), time.Time{}, 2,
			series(time.UTC, "2028-02-29 12:00", "2032-02-29 12:00")},
		{"every tuesday from a Friday", Recurrence{Weekly, 1, WeekdaysOf(time.Tuesday)}, time.Date(2026, 11, 27, 18, 0, 0, 0, berlin), time.Time{}, 2,
			series(berlin, "2026-12-01 18:00", "2026-12-08 18:00")},
		{"every 2 weeks on monday from a Wednesday", Recurrence{Weekly, 2, WeekdaysOf(time.Monday)}, time.Date(2026, 12, 2, 18, 0, 0, 0, berlin), time.Time{}, 3,
			series(berlin, "2026-12-07 18:00", "2026-12-21 18:00", "2027-01-04 18:00")},
		{"every 2 weeks on monday and thursday from a Wednesday", Recurrence{Weekly, 2, WeekdaysOf(time.Monday, time.Thursday)}, time.Date(2026, 12, 2, 18, 0, 0, 0, berlin), time.Time{}, 4,
			series(berlin, "2026-12-03 18:00", "2026-12-14 18:00", "2026-12-17 18:00", "2026-12-28 18:00")},
		{"every weekday from a Saturday", Recurrence{Weekly, 1, MondayToFriday}, time.Date(2026, 11, 28, 9, 0, 0, 0, berlin), time.Time{}, 6,
			series(berlin, "2026-11-30 09:00", "2026-12-01 09:00", "2026-12-02 09:00", "2026-12-03 09:00", "2026-12-04 09:00", "2026-12-07 09:00")},
		{"from later than start", weekly, time.Date(2026, 1, 2, 18, 0, 0, 0, berlin), time.Date(2026, 11, 27, 17, 0, 0, 0, berlin), 2,
			series(berlin, "2026-11-27 18:00", "2026-12-04 18:00")},
		{"from exactly on an occurrence", weekly, time.Date(2026, 1, 2, 18, 0, 0, 0, berlin), time.Date(2026, 11, 27, 18, 0, 0, 0, berlin), 1,
			series(berlin, "2026-11-27 18:00")},
		{"from just after an occurrence", weekly, time.Date(2026, 1, 2, 18, 0, 0, 0, berlin), time.Date(2026, 11, 27, 18, 0, 1, 0, berlin), 1,
			series(berlin, "2026-12-04 18:00")},
		{"from given in another zone", weekly, time.Date(2026, 1, 2, 18, 0, 0, 0, berlin), time.Date(2026, 11, 27, 12, 30, 0, 0, newYork), 1,
			series(berlin, "2026-12-04 18:00")},
		{"from before start", weekly, time.Date(2026, 12, 4, 18, 0, 0, 0, berlin), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 1,
			series(berlin, "2026-12-04 18:00")},
		{"start decades ago", daily, time.Date(1990, 6, 1, 7, 15, 0, 0, newYork), time.Date(2026, 11, 27, 12, 0, 0, 0, newYork), 2,
			series(newYork, "2026-11-28 07:15", "2026-11-29 07:15")},
	} {
		from := tc.from
		if from.IsZero() {
			from = tc.start
		}
		got := tc.r.Occurrences(tc.start, from, tc.n)
		if !sameTimes(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		for _, o := range got {
			if o.Location() != tc.start.Location() {
				t.Errorf("%s: %v is not in %v", tc.name, o, tc.start.Location())
			}
		}
	}
}

func sameTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// Occurrences from any point equals listing the whole series from its start
// and dropping what comes before: skipping ahead loses or invents nothing.
func TestOccurrencesSkipAhead(t *testing.T) {
	recs := []Recurrence{
		{Daily, 1, 0}, {Daily, 3, 0}, {Weekly, 1, 0}, {Weekly, 3, 0},
		{Weekly, 1, MondayToFriday}, {Weekly, 2, WeekdaysOf(time.Monday, time.Thursday)},
		{Weekly, 2, WeekdaysOf(time.Sunday)}, {Monthly, 1, 0}, {Monthly, 5, 0}, {Yearly, 1, 0},
	}
	starts := []time.Time{
		time.Date(2026, 1, 31, 18, 0, 0, 0, berlin),
		time.Date(2026, 3, 28, 2, 30, 0, 0, berlin),
		time.Date(2026, 10, 31, 1, 30, 0, 0, newYork),
		time.Date(2024, 2, 29, 23, 45, 0, 0, newYork),
		time.Date(2026, 5, 31, 0, 0, 0, 0, time.UTC),
	}
	for _, r := range recs {
		for _, start := range starts {
			n := 400
			if r.Freq >= Monthly {
				n = 40
			}
			all := r.Occurrences(start, start, n)
			if len(all) != n {
				t.Fatalf("%v from %v: %d occurrences, want %d", r, start, len(all), n)
			}
			last := all[len(all)-1]
			for from := start.Add(-time.Hour); from.Before(last); from = from.Add(61*time.Hour + 7*time.Minute) {
				var want []time.Time
				for _, o := range all {
					if !o.Before(from) && len(want) < 3 {
						want = append(want, o)
					}
				}
				if len(want) < 3 {
					break
				}
				if got := r.Occurrences(start, from, 3); !sameTimes(got, want) {
					t.Fatalf("%v from %v, at or after %v: got %v, want %v", r, start, from, got, want)
				}
				if got, ok := r.Next(start, from); !ok || !got.Equal(firstAfter(all, from)) {
					t.Fatalf("%v from %v: Next after %v = %v, %v", r, start, from, got, ok)
				}
			}
		}
	}
}

func firstAfter(ts []time.Time, after time.Time) time.Time {
	for _, t := range ts {
		if t.After(after) {
			return t
		}
	}
	return time.Time{}
}

func TestNext(t *testing.T) {
	r := Recurrence{Weekly, 1, 0}
	start := time.Date(2026, 12, 4, 18, 0, 0, 0, berlin)
	if got, ok := r.Next(start, start.Add(-time.Nanosecond)); !ok || !got.Equal(start) {
		t.Errorf("Next just before start = %v, %v; want start", got, ok)
	}
	if got, ok := r.Next(start, start); !ok || !got.Equal(start.AddDate(0, 0, 7)) {
		t.Errorf("Next at start = %v, %v; want a week later", got, ok)
	}
	// Sub-second precision of start is kept.
	precise := start.Add(123 * time.Millisecond)
	if got := r.Occurrences(precise, precise, 2); len(got) != 2 || !got[0].Equal(precise) || !got[1].Equal(precise.AddDate(0, 0, 7)) {
		t.Errorf("Occurrences from %v = %v", precise, got)
	}
	// The series ends with rrule-go's last year, 9999.
	late := time.Date(9999, 12, 1, 12, 0, 0, 0, time.UTC)
	if got, ok := (Recurrence{Monthly, 1, 0}).Next(late, late); ok {
		t.Errorf("Next after %v = %v", late, got)
	}
}

// TestSkipTo: the start from which Occurrences lets rrule-go run is the
// last occurrence not after the target (exactly: a later one would lose
// occurrences, an earlier one costs time), or the first if the target is
// not after it.
func TestSkipTo(t *testing.T) {
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 18, 30, 0, 0, time.UTC) }
	for _, tc := range []struct {
		r             Recurrence
		first, target time.Time
		want          time.Time
	}{
		{Recurrence{Daily, 1, 0}, d(2026, 1, 1), d(2026, 3, 1), d(2026, 3, 1)},
		{Recurrence{Daily, 3, 0}, d(2026, 1, 1), d(2026, 1, 12).Add(-time.Second), d(2026, 1, 10)},
		{Recurrence{Weekly, 2, 0}, d(2026, 1, 1), d(2026, 2, 12), d(2026, 2, 12)},
		{Recurrence{Weekly, 2, 0}, d(2026, 1, 1), d(2026, 2, 12).Add(-time.Second), d(2026, 1, 29)},
		{Recurrence{Daily, 1, 0}, d(2026, 1, 1), d(2025, 6, 1), d(2026, 1, 1)}, // target before first
		{Recurrence{Monthly, 1, 0}, d(2026, 1, 15), d(2026, 1, 15), d(2026, 1, 15)},
		{Recurrence{Monthly, 1, 0}, d(2026, 1, 15), d(2030, 6, 20), d(2030, 6, 15)},
		{Recurrence{Monthly, 1, 0}, d(2026, 3, 15), d(2031, 1, 20), d(2031, 1, 15)}, // target's month before first's
		{Recurrence{Monthly, 1, 0}, d(2026, 1, 31), d(2030, 5, 15), d(2030, 3, 31)}, // May 31 is after, April has no 31st
		{Recurrence{Monthly, 3, 0}, d(2026, 1, 10), d(2027, 12, 31), d(2027, 10, 10)},
		{Recurrence{Monthly, 5, 0}, d(2026, 1, 10), d(2026, 6, 9), d(2026, 1, 10)},
		{Recurrence{Yearly, 1, 0}, d(2024, 2, 29), d(2035, 1, 1), d(2032, 2, 29)},
		{Recurrence{Yearly, 2, 0}, d(2026, 7, 1), d(2033, 6, 30), d(2032, 7, 1)},
	} {
		if got := tc.r.skipTo(tc.first, tc.target); !got.Equal(tc.want) {
			t.Errorf("%v from %v: skipTo(%v) = %v, want %v", tc.r, tc.first.Format(time.DateOnly), tc.target.Format(time.DateOnly),
				got.Format(time.DateOnly), tc.want.Format(time.DateOnly))
		}
	}
}

func TestOccurrencesCap(t *testing.T) {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	if got := (Recurrence{Daily, 1, 0}).Occurrences(start, start, 1<<30); len(got) != maxOccurrences {
		t.Errorf("got %d occurrences, want the cap %d", len(got), maxOccurrences)
	}
}
