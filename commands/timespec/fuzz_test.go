package timespec

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// examples seeds the fuzzers with what people type, good and bad.
var examples = []string{
	"90m", "48h", "3d", "2w", "1d12h", "2h30m", "2h 30m", "90 minutes", "2 weeks", "1 day", "a day", "two hours",
	"1 day and 12 hours", "in 3 days", "3 days from now", "2026-12-01 18:00", "2026-12-01T18:00", "2026-12-01",
	"01.12.2026 18:00", "friday 18:00", "fri 18:00", "friday", "next friday 6pm", "tomorrow 9:00", "today 18:00",
	"18:00", "6pm", "6:30pm", "6:30 p.m.", "noon", "Fri 4 Dec 18:00", "1 dec", "dec 1 2026", "on monday at 9am",
	"monday, 18:00", "tomorrow at 9", "day", "3 days", "week", "weekly", "every 2 weeks", "fortnight", "month",
	"monthly", "tuesday", "2 tuesdays", "every other tuesday", "monday and thursday", "mon, wed and fri",
	"every 2 weeks on monday", "weekday", "every weekday", "year",
	"", "tomorrow tomorrow", "25:00", "2026-13-01", "friday 18:00 junk", "-3h", "0m", "99999999d", "in", "every",
	"fridya 18:00", "12/01/2026", "1.5h", "30s", "3 months", "every 0 weeks", "2 weekdays", "in -3h", "today",
	// Other languages' names (locale.EnglishName).
	"viernes 18:00", "Freitag 18:00", "miércoles", "miercoles 9:30", "SÁBADO", "next lunes 6pm", "1 diciembre",
	"3 März 2027", "3 maerz 2027", "Dezember 1", "domingo", "every 2 weeks on Montag", "el viernes",
}

// edges seeds the fuzzers with the borders of the grammar rather than its
// middle: empty and blank input, the longest input accepted and one byte
// more, numbers at and past every limit and beyond int64, other scripts'
// digits and letters, look-alike and invisible characters, leap days and
// dates that never were.
var edges = []string{
	// Empty, blank, separators only.
	"", " ", "\t\n", ",", ", ,", "and", "at", "on", "in ", "every ", "from now", "3 days from",
	// Length: maxInput (100) bytes after trimming is read, 101 is refused.
	"1 day" + strings.Repeat(" ", maxInput-len("1 day")-len("and 12 hours")) + "and 12 hours",
	"1 day" + strings.Repeat(" ", maxInput+1-len("1 day")-len("and 12 hours")) + "and 12 hours",
	strings.Repeat(" ", 200) + "3d" + strings.Repeat(" ", 200),
	strings.Repeat("9", maxInput), strings.Repeat("é", maxInput/2), strings.Repeat("🗳", maxInput/4+1),
	// Numbers: the largest duration, one past it, 7 and 8 digits, past int64.
	"3653d", "3654d", "521w", "522w", "87672h", "87673h", "5260320m", "5260321m", "1000000m", "00000001m",
	"9223372036854775807m", "9223372036854775808m", "99999999999999999999h", "0", "00m", "0d0h0m",
	"every 3653 days", "every 3654 days", "every 521 weeks", "every 120 months", "every 121 months",
	"every 10 years", "every 11 years", "every 9999 weeks", "every 10000 days", "every 0 days",
	"in 3653 days", "in 3654 days", "2036-12-31 23:59", "2037-01-01", "0000-01-01", "9999-12-31 23:59",
	// Trailing and partial pieces that must not panic.
	"1.", "1,", "1.5", "3,5", "two", "an", "1d and", "18:", ":30", "18:60", "24:00", "23:59", "00:00",
	"12am", "12pm", "0am", "13pm", "12 a.m.", "noon tomorrow", "tomorrow noon", "on", "on friday at",
	// Unicode: other digits and letters, width and case look-alikes,
	// invisible and line-breaking characters, invalid UTF-8.
	"３d", "١٢:٠٠", "१८:००", "ｆｒｉｄａｙ 18:00", "FRIDAY 18:00", "vendredi 18h", "Freitag 18 Uhr",
	"friday\u00a018:00", "friday\u200b18:00", "friday\u2028 18:00", "\ufefffriday", "tomorrow\u0085",
	"3 wee\u212as", "\u212a", "İn 3 days", "30 secz", "30 SECZ", "A DAY", "AN HOUR", "In 3 Days", "EVERY OTHER TUESDAY",
	"\xff\xfe", "3d\x00", "fri\xc3", "🗓 friday",
	// Leap days, days that never were, month ends.
	"29 feb", "feb 29", "2028-02-29", "2028-02-29 23:59", "2027-02-29", "29.02.2028", "30 feb", "31 apr",
	"31 dec", "1 jan", "dec 31 2026", "31.12.2026 23:59", "2011-12-30", "2011-12-30 12:00",
	// DST: a time in a spring-forward gap, one that occurs twice, a day
	// that starts at 01:00.
	"02:30", "2:30am", "tomorrow 02:30", "sunday 2:30", "2026-03-08 02:30", "2026-03-29 02:30",
	"2026-10-25 02:30", "2026-11-01 01:30", "2026-09-06", "2026-09-06 00:00", "in 1 day", "in 24h",
	"in 1 day 1h", "25h", "tomorrow", "today 23:59", "next sunday", "this saturday",
	// Repeats at their edges.
	"every", "every every week", "every other", "other", "2", "9999", "10000", "every 2 weekdays",
	"monday and", "monday, and thursday", "mon,tue,wed,thu,fri,sat,sun", "every weekday on monday",
	"every 2 weeks on", "fortnightly", "2 fortnights", "every 261 fortnights", "annually", "3 daily",
}

// fuzzZones gives each fuzz input a zone and a fixed now, around DST changes
// and the year's end.
var fuzzZones = []struct {
	loc *time.Location
	now time.Time
}{
	{berlin, friday17},
	{newYork, time.Date(2026, 3, 7, 23, 30, 0, 0, newYork)},
	{berlin, time.Date(2026, 10, 24, 22, 15, 0, 0, berlin)},
	{time.UTC, time.Date(2026, 12, 31, 23, 59, 0, 0, time.UTC)},
	{apia, time.Date(2011, 12, 29, 12, 0, 0, 0, apia)},
	{santiago, time.Date(2026, 9, 5, 20, 0, 0, 0, santiago)},
}

// checkError holds every error to the friendly one-liner standard.
func checkError(t *testing.T, in string, err error) {
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: error %v (%T) is not an *Error", in, err, err)
	}
	msg := e.Error()
	if msg == "" || strings.ContainsAny(msg, "\n\r") || !utf8.ValidString(msg) || len(msg) > 300 {
		t.Fatalf("%q: message %q is not a short one-liner", in, msg)
	}
}

func FuzzDuration(f *testing.F) {
	for _, s := range append(examples, edges...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Duration(s)
		if err != nil {
			checkError(t, s, err)
			return
		}
		if d <= 0 || d > MaxDuration || d%time.Minute != 0 {
			t.Fatalf("Duration(%q) = %v", s, d)
		}
		r := Remaining(d).String()
		back, err := Duration(r)
		if err != nil || back > d || back <= 0 {
			t.Fatalf("Duration(Remaining(%v) = %q) = %v, %v", d, r, back, err)
		}
	})
}

func FuzzMoment(f *testing.F) {
	for i, s := range examples {
		f.Add(s, uint8(i))
	}
	// Every edge in every zone: around DST changes, the year's end and a
	// day that was skipped.
	for _, s := range edges {
		for z := range fuzzZones {
			f.Add(s, uint8(z))
		}
	}
	f.Fuzz(func(t *testing.T, s string, zone uint8) {
		z := fuzzZones[int(zone)%len(fuzzZones)]
		got, err := Moment(s, z.now, z.loc)
		if err != nil {
			checkError(t, s, err)
		} else {
			if !got.After(z.now) || got.Sub(z.now) > MaxDuration || got.Location() != z.loc {
				t.Fatalf("Moment(%q, %v) = %v", s, z.now, got)
			}
			if again, err := Moment(s, z.now, z.loc); err != nil || !again.Equal(got) {
				t.Fatalf("Moment(%q) is not repeatable: %v then %v, %v", s, got, again, err)
			}
			// Human's text reads back, for times in the coming months whose
			// clock reading is not ambiguous (Human shows no offset).
			y, m, d := got.Date()
			unambiguous := wallTime(y, m, d, got.Hour(), got.Minute(), 0, 0, z.loc).Equal(got.Truncate(time.Minute))
			if got.Sub(z.now) < 300*24*time.Hour && unambiguous {
				h := Human(got, z.loc).String()
				back, err := Moment(h, z.now, z.loc)
				if err != nil || !back.Equal(got.Truncate(time.Minute)) {
					t.Fatalf("Moment(Human(Moment(%q)) = %q) = %v, %v; want %v", s, h, back, err, got)
				}
			}
		}

		day, err := Date(s, z.now, z.loc)
		if err != nil {
			checkError(t, s, err)
			return
		}
		y, m, d := day.Date()
		if !day.Equal(wallTime(y, m, d, 0, 0, 0, 0, z.loc)) || day.Location() != z.loc {
			t.Fatalf("Date(%q) = %v is not the start of a day in %v", s, day, z.loc)
		}
		if day.Before(z.now.Add(-MaxDuration-24*time.Hour)) || day.After(z.now.Add(MaxDuration)) {
			t.Fatalf("Date(%q) = %v is too far from %v", s, day, z.now)
		}
	})
}

func FuzzRecurrence(f *testing.F) {
	for i, s := range examples {
		f.Add(s, uint8(i), int64(i)*7919)
	}
	// Starts on the edges (in minutes from the zone's now): now itself, a
	// minute either side, the furthest offsets either way and beyond; then
	// starts on a leap day, a month's end and around DST changes.
	offsets := []int64{0, -1, 1, 3*366*24*60 - 1, -(3*366*24*60 - 1), math.MaxInt64, math.MinInt64}
	for _, s := range edges {
		for z := range fuzzZones {
			for _, o := range offsets {
				f.Add(s, uint8(z), o)
			}
		}
	}
	for _, s := range []string{"year", "month", "every 4 years", "day", "week", "monday and thursday", "weekday"} {
		f.Add(s, uint8(3), int64(611281))  // UTC: 2028-02-29 12:00, a leap day
		f.Add(s, uint8(3), int64(1136881)) // UTC: 2029-02-28 12:00, the day instead
		f.Add(s, uint8(3), int64(44281))   // UTC: 2027-01-31 18:00, a month's last day
		f.Add(s, uint8(1), int64(150))     // New York: 2026-03-08 03:00 EDT, just after the gap
		f.Add(s, uint8(2), int64(255))     // Berlin: 2026-10-25 02:30 CEST, the first of two
		f.Add(s, uint8(2), int64(315))     // Berlin: 2026-10-25 02:30 CET, the second
		f.Add(s, uint8(5), int64(239))     // Santiago: 2026-09-05 23:59, before a day starting at 01:00
		f.Add(s, uint8(4), int64(719))     // Apia: 2011-12-29 23:59, before a day that never was
	}
	f.Fuzz(func(t *testing.T, s string, zone uint8, offset int64) {
		r, err := ParseRecurrence(s)
		if err != nil {
			checkError(t, s, err)
			return
		}
		if !r.valid() || r.IsZero() {
			t.Fatalf("ParseRecurrence(%q) = invalid %+v", s, r)
		}
		if back, err := ParseRecurrence(r.String()); err != nil || back != r {
			t.Fatalf("ParseRecurrence(%q) = %+v, %v; want %+v (from %q)", r.String(), back, err, r, s)
		}
		if back, err := ParseRRule(r.RRule()); err != nil || back != r {
			t.Fatalf("ParseRRule(%q) = %+v, %v; want %+v (from %q)", r.RRule(), back, err, r, s)
		}
		// A start within about three years of the zone's now, at any minute.
		z := fuzzZones[int(zone)%len(fuzzZones)]
		minutes := offset % (3 * 366 * 24 * 60)
		start := z.now.Add(time.Duration(minutes) * time.Minute)
		occ := r.Occurrences(start, start, 5)
		if len(occ) != 5 {
			t.Fatalf("%+v from %v: %d occurrences", r, start, len(occ))
		}
		for i, o := range occ {
			if o.Before(start) || (i > 0 && !o.After(occ[i-1])) || o.Location() != z.loc {
				t.Fatalf("%+v from %v: bad occurrences %v", r, start, occ)
			}
			if r.Days != 0 && !r.Days.Has(naiveWall(o).Weekday()) && o.Hour() == start.Hour() {
				t.Fatalf("%+v from %v: %v is not on %v", r, start, o, r.Days)
			}
		}
		if next, ok := r.Next(start, occ[0]); !ok || !next.Equal(occ[1]) {
			t.Fatalf("%+v: Next(%v) = %v, %v; want %v", r, occ[0], next, ok, occ[1])
		}
	})
}
