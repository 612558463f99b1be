package timespec

import (
	"time"

	"quorum/locale"
	"quorum/msg"
)

// Local is a time as a reply writes it, in the reader's language: a
// msg.Localizer, and in English through String.
type Local struct {
	T      time.Time
	Layout string // Go layout; its day and month names are translated
}

// Localize implements msg.Localizer.
func (l Local) Localize(lang string) string { return locale.FormatTime(lang, l.T, l.Layout) }

// String is the English form.
func (l Local) String() string { return l.Localize(locale.Default) }

// Human formats t for a reply as a short local time, "Fri 1 Dec 18:00", in
// loc (nil means t's own location). It shows no year: replies are about the
// coming weeks, and a reader can type the English text back to Moment.
func Human(t time.Time, loc *time.Location) Local {
	return Layout(t, loc, "Mon 2 Jan 15:04") // a layout, not for members
}

// Layout formats t in loc (nil: t's own) with a Go layout, in the reader's
// language.
func Layout(t time.Time, loc *time.Location, layout string) Local {
	if loc != nil {
		t = t.In(loc)
	}
	return Local{T: t, Layout: layout}
}

// weekdayName is d's full name ("Friday") in the reader's language.
func weekdayName(d time.Weekday) Local {
	// 2 January 2000 was a Sunday.
	return Local{T: time.Date(2000, 1, 2+int(d), 12, 0, 0, 0, time.UTC), Layout: "Monday"}
}

// monthName is m's full name ("February") in the reader's language.
func monthName(m time.Month) Local {
	return Local{T: time.Date(2000, m, 1, 12, 0, 0, 0, time.UTC), Layout: "January"}
}

// Span is a time left as a reply writes it, compactly and rounded down:
// "45m", "2h 10m", "1 day 4h", "3 days". Anything under a minute, negative
// included, is "less than a minute". The English form (other than that) is
// accepted by Duration.
type Span time.Duration

// Remaining formats a time left for a reply (see Span).
func Remaining(d time.Duration) Span { return Span(d) }

// Localize implements msg.Localizer.
func (s Span) Localize(lang string) string { return s.text().In(lang) }

// String is the English form.
func (s Span) String() string { return s.Localize(locale.Default) }

func (s Span) text() msg.Text {
	d := time.Duration(s)
	if d < time.Minute {
		return msg.T("less than a minute")
	}
	m := int(d / time.Minute)
	days, hours, mins := m/1440, m/60%24, m%60
	switch {
	case days >= 3 || (days >= 1 && hours == 0):
		return msg.N(days, "%d day", "%d days")
	case days >= 1:
		return msg.T("%s %dh", msg.N(days, "%d day", "%d days"), hours)
	case hours >= 1 && mins > 0:
		return msg.T("%dh %dm", hours, mins)
	case hours >= 1:
		return msg.T("%dh", hours)
	}
	return msg.T("%dm", mins)
}
