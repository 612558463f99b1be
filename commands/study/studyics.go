package study

import (
	"context"
	"fmt"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// Calendar files (RFC 5545), written with github.com/arran4/golang-ical.
//
//   - Every session or series is one VEVENT whose UID is fixed when it is
//     scheduled; a move or cancellation raises SEQUENCE and updates
//     DTSTAMP/LAST-MODIFIED, and a cancelled one has STATUS:CANCELLED, so
//     importing a newer file updates the event rather than adding another.
//   - DTSTART and DTEND are local times with TZID set to the IANA name of the
//     room's zone (Europe/Berlin), which every common calendar knows; a
//     VTIMEZONE for that TZID is included as RFC 5545 requires, built from
//     Go's zone data: one observance per UTC offset change (STANDARD or
//     DAYLIGHT) from the first session to icsZoneYears after the last, plus
//     one at the window's start, each without RRULE, so it is exact rather
//     than a rule that may be out of date.
//   - A series has its RRULE (from timespec) and DTSTART at the series start.
//   - A private place is left out (the file is posted in the room); the
//     DESCRIPTION says it is sent by DM.
//   - Lines end in CRLF and are folded at 75 octets (the library's default
//     line ending is "\n" on Unix, so CRLF is asked for explicitly).
const (
	icsZoneYears   = 3
	icsMaxSessions = 200
	icsLocalFormat = "20060102T150405"
)

func (f *Feature) icsOne(ctx context.Context, r *commands.Request, s *store.Session) error {
	// A file and its caption are not messages: they are written in the
	// room's language.
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	data, err := f.calendar([]*store.Session{s}, lang)
	if err != nil {
		return err
	}
	r.File(r.Room, msg.File{Name: fmt.Sprintf("study-%d.ics", s.Number), MimeType: "text/calendar", Data: data,
		Caption: msg.T("Study session #%d for your calendar. Importing a newer file updates it.", s.Number).In(lang), ReplyTo: r.Event})
	return nil
}

func (f *Feature) icsAll(ctx context.Context, r *commands.Request) error {
	all, err := r.Store.Sessions().All(ctx, r.Room)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		return commands.Refusef("No study sessions yet. Schedule one with `%s`.", r.Cmd(studyExample))
	}
	if len(all) > icsMaxSessions {
		all = all[len(all)-icsMaxSessions:]
	}
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	data, err := f.calendar(all, lang)
	if err != nil {
		return err
	}
	r.File(r.Room, msg.File{Name: "study-sessions.ics", MimeType: "text/calendar", Data: data,
		Caption: msg.T("All study sessions for your calendar. Importing a newer file updates them.").In(lang), ReplyTo: r.Event})
	return nil
}

// calendar writes sessions as one iCalendar file, its texts in lang.
func (f *Feature) calendar(sessions []*store.Session, lang string) ([]byte, error) {
	cal := ics.NewCalendarFor("Quorum")
	cal.SetProductId("-//Quorum//Study sessions//EN")
	cal.SetMethod(ics.MethodPublish)
	cal.SetCalscale("GREGORIAN")
	cal.SetXWRCalName(msg.T("Study sessions").In(lang))
	type window struct{ from, to time.Time }
	zones := map[string]*window{}
	var order []string
	for _, s := range sessions {
		w, ok := zones[s.Zone]
		if !ok {
			w = &window{from: s.SeriesStart, to: s.EndsAt()}
			zones[s.Zone] = w
			order = append(order, s.Zone)
		}
		w.from = commands.Earliest(w.from, s.SeriesStart)
		w.to = commands.Latest(w.to, s.EndsAt())
	}
	for _, zone := range order {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("session zone: %w", err)
		}
		w := zones[zone]
		cal.AddVTimezone(vtimezone(loc, w.from.AddDate(0, 0, -1), w.to.AddDate(icsZoneYears, 0, 0)))
	}
	for _, s := range sessions {
		loc, err := time.LoadLocation(s.Zone)
		if err != nil {
			return nil, fmt.Errorf("session zone: %w", err)
		}
		start := s.StartsAt
		if s.RRule != "" {
			start = s.SeriesStart
		}
		e := cal.AddEvent(s.UID)
		e.SetDtStampTime(s.UpdatedAt)
		e.SetCreatedTime(s.CreatedAt)
		e.SetModifiedAt(s.UpdatedAt)
		e.SetSequence(s.Sequence)
		e.SetSummary(s.Title)
		e.SetProperty(ics.ComponentPropertyDtStart, start.In(loc).Format(icsLocalFormat), ics.WithTZID(s.Zone))
		e.SetProperty(ics.ComponentPropertyDtEnd, start.Add(s.Duration).In(loc).Format(icsLocalFormat), ics.WithTZID(s.Zone))
		if s.RRule != "" {
			e.AddRrule(s.RRule)
		}
		var desc []string
		if s.Topic != "" {
			desc = append(desc, msg.T("Topic: %s", s.Topic).In(lang))
		}
		switch {
		case s.PrivatePlace:
			desc = append(desc, msg.T("The place is private: it is sent by direct message to those who said they are coming.").In(lang))
		case s.Place != "":
			e.SetLocation(s.Place)
		}
		if len(desc) > 0 {
			e.SetDescription(strings.Join(desc, "\n"))
		}
		if s.Status == store.SessionCancelled {
			e.SetStatus(ics.ObjectStatusCancelled)
		} else {
			e.SetStatus(ics.ObjectStatusConfirmed)
		}
		e.SetClass(ics.ClassificationPrivate)
	}
	return []byte(cal.Serialize(ics.WithNewLineWindows)), nil
}

// vtimezone describes loc between from and to: an observance at from, and
// one at every change of UTC offset until to.
func vtimezone(loc *time.Location, from, to time.Time) *ics.VTimezone {
	tz := ics.NewTimezone(loc.String())
	add := func(at time.Time, offFrom, offTo int, name string, dst bool) {
		c := ics.ComponentBase{}
		// DTSTART of an observance is the local time before the change.
		c.SetProperty(ics.ComponentProperty(ics.PropertyDtstart), at.UTC().Add(time.Duration(offFrom)*time.Second).Format(icsLocalFormat))
		c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(offFrom))
		c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(offTo))
		c.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
		if dst {
			tz.Components = append(tz.Components, &ics.Daylight{ComponentBase: c})
		} else {
			tz.Components = append(tz.Components, &ics.Standard{ComponentBase: c})
		}
	}
	from = from.Truncate(time.Hour)
	name, off := from.In(loc).Zone()
	add(from, off, off, name, from.In(loc).IsDST())
	for t := from; t.Before(to); {
		next := t.Add(24 * time.Hour)
		if _, o := next.In(loc).Zone(); o == off {
			t = next
			continue
		}
		lo, hi := t, next // the offset changes in (lo, hi]
		for hi.Sub(lo) > time.Second {
			mid := lo.Add(hi.Sub(lo) / 2)
			if _, o := mid.In(loc).Zone(); o == off {
				lo = mid
			} else {
				hi = mid
			}
		}
		name, o := hi.In(loc).Zone()
		add(hi, off, o, name, hi.In(loc).IsDST())
		off, t = o, hi
	}
	return tz
}

// utcOffset formats seconds east of UTC as RFC 5545's utc-offset: +0100,
// -0330, +053328.
func utcOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	out := fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec/60%60)
	if sec%60 != 0 {
		out += fmt.Sprintf("%02d", sec%60)
	}
	return out
}
