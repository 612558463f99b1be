package timespec

import "time"

// wallTime returns the instant at which clocks in loc show the given date and
// time (out-of-range values normalise as in time.Date). It exists because
// time.Date leaves DST gaps and overlaps unspecified, and in practice resolves
// them one way east of UTC and the other way west of it. Here:
//
//   - a wall time inside a spring-forward gap moves forward by the length of
//     the gap (Berlin 2026-03-29 02:30 is 03:30 CEST; New York 2026-03-08
//     02:30 is 03:30 EDT, where time.Date gives 01:30 EST);
//   - a wall time that occurs twice at fall-back is the first, earlier one
//     (Berlin 2026-10-25 02:30 is 02:30 CEST, where time.Date gives CET).
func wallTime(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	naive := time.Date(year, month, day, hour, min, sec, nsec, time.UTC)
	guess := time.Date(year, month, day, hour, min, sec, nsec, loc)

	// The offsets in force around the wanted instant: the guess's own and
	// those either side of its zone period.
	offsets := []int{offset(guess)}
	start, end := guess.ZoneBounds()
	if !start.IsZero() {
		offsets = append(offsets, offset(start.Add(-time.Nanosecond)))
	}
	if !end.IsZero() {
		offsets = append(offsets, offset(end))
	}

	// Existing wall time: the earliest instant that shows it.
	var best time.Time
	found := false
	for _, off := range offsets {
		t := naive.Add(-time.Duration(off) * time.Second)
		if offset(t.In(loc)) == off && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	if found {
		return best.In(loc)
	}

	// In a gap: read the wall time with the offset in force before the gap,
	// which lands after it, shifted forward by the gap's length.
	bestShift := 0
	for _, off := range offsets {
		t := naive.Add(-time.Duration(off) * time.Second)
		if shift := offset(t.In(loc)) - off; shift > 0 && (!found || shift < bestShift) {
			best, bestShift, found = t, shift, true
		}
	}
	if found {
		return best.In(loc)
	}
	return guess
}

func offset(t time.Time) int {
	_, off := t.Zone()
	return off
}
