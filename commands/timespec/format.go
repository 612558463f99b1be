package timespec

import (
	"fmt"
	"strconv"
	"time"
)

// Human formats t for a reply as a short local time, "Fri 1 Dec 18:00", in
// loc (nil means t's own location). It shows no year: replies are about the
// coming weeks, and a reader can type the text back to Moment.
func Human(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format("Mon 2 Jan 15:04")
}

// Remaining formats a time left for a reply, compactly and rounded down:
// "45m", "2h 10m", "1 day 4h", "3 days". Anything under a minute, negative
// included, is "less than a minute". The output (other than that) is accepted
// by Duration.
func Remaining(d time.Duration) string {
	if d < time.Minute {
		return "less than a minute"
	}
	m := int64(d / time.Minute)
	days, hours, mins := m/1440, m/60%24, m%60
	switch {
	case days >= 3:
		return plural(days, "day")
	case days >= 1:
		if hours > 0 {
			return fmt.Sprintf("%s %dh", plural(days, "day"), hours)
		}
		return plural(days, "day")
	case hours >= 1:
		if mins > 0 {
			return fmt.Sprintf("%dh %dm", hours, mins)
		}
		return fmt.Sprintf("%dh", hours)
	}
	return fmt.Sprintf("%dm", mins)
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}
