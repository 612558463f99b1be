package timespec

import (
	"errors"
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
	for _, s := range examples {
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
		r := Remaining(d)
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
				h := Human(got, z.loc)
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
