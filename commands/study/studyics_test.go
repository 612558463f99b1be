package study

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	ics "github.com/arran4/golang-ical"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/msg"
)

// icsOf sends `!study <args>` and returns the calendar file it posts.
func icsOf(t *testing.T, h *Harness, args string) []byte {
	t.Helper()
	h.Send(Ana, "!study "+args)
	out := h.Drain()
	if len(out) != 1 || out[0].Kind != commands.KindFile {
		t.Fatalf("want one file, got %+v", out)
	}
	var f msg.File
	unmarshal(t, out[0].Payload, &f)
	if f.MimeType != "text/calendar" || !strings.HasSuffix(f.Name, ".ics") {
		t.Errorf("file %q of type %q", f.Name, f.MimeType)
	}
	return f.Data
}

// checkRFC5545 checks the line format: CRLF only, lines of at most 75
// octets, continuation lines starting with a space and never splitting a
// UTF-8 character.
func checkRFC5545(t *testing.T, data []byte) {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("END:VCALENDAR\r\n")) {
		t.Errorf("does not end in END:VCALENDAR CRLF")
	}
	if bytes.Count(data, []byte("\n")) != bytes.Count(data, []byte("\r\n")) {
		t.Errorf("a line ends in a bare LF")
	}
	folded := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
		if !utf8.ValidString(line) {
			t.Errorf("folding split a character: %q", line)
		}
		if strings.HasPrefix(line, " ") {
			folded++
		}
	}
	if folded == 0 {
		t.Errorf("no folded line; the test's long title should need folding")
	}
}

// event parses data back with the library and returns its only event.
func event(t *testing.T, data []byte) (*ics.Calendar, *ics.VEvent) {
	t.Helper()
	cal, err := ics.ParseCalendar(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse back: %v\n%s", err, data)
	}
	if evs := cal.Events(); len(evs) == 1 {
		return cal, evs[0]
	}
	t.Fatalf("want one event:\n%s", data)
	return nil, nil
}

func prop(e *ics.VEvent, p ics.ComponentProperty) string {
	if v := e.GetProperty(p); v != nil {
		return v.Value
	}
	return ""
}

func TestStudyICS(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	h.Env.Config.Timezone = "Europe/Berlin"
	title := "Lesekreis über Arbeitskämpfe, Streikkassen; und die Geschichte der Gewerkschaftsbewegung in Europa"
	newSession(t, h, title+" at friday 18:00 every week where Gewerkschaftshaus, Raum 3 topic Geschichte")

	data := icsOf(t, h, "1 ics")
	checkRFC5545(t, data)
	cal, e := event(t, data)
	uid := e.Id()
	if !strings.HasPrefix(uid, "study-") || prop(e, ics.ComponentPropertySummary) != title ||
		prop(e, ics.ComponentPropertyLocation) != "Gewerkschaftshaus, Raum 3" || prop(e, ics.ComponentPropertyRrule) != "FREQ=WEEKLY" ||
		prop(e, ics.ComponentPropertySequence) != "0" || prop(e, ics.ComponentPropertyStatus) != "CONFIRMED" ||
		prop(e, ics.ComponentPropertyDescription) != "Topic: Geschichte" {
		t.Errorf("event:\n%s", data)
	}
	dt := e.GetProperty(ics.ComponentPropertyDtStart)
	if dt.Value != "20261127T180000" || len(dt.ICalParameters["TZID"]) != 1 || dt.ICalParameters["TZID"][0] != "Europe/Berlin" {
		t.Errorf("DTSTART = %+v", dt)
	}
	if start, err := e.GetStartAt(); err != nil || !start.Equal(time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)) {
		t.Errorf("start read back = %v, %v", start, err)
	}
	if end, err := e.GetEndAt(); err != nil || !end.Equal(time.Date(2026, 11, 27, 19, 0, 0, 0, time.UTC)) {
		t.Errorf("end read back = %v, %v", end, err)
	}
	// The VTIMEZONE for the TZID: its first observance a day before the
	// session (a calendar needs the offset from the first DTSTART on),
	// with the spring-forward of 2027.
	if !strings.Contains(string(data), "BEGIN:STANDARD\r\nDTSTART:20261126T180000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD") {
		t.Errorf("VTIMEZONE does not start the day before the session:\n%s", data)
	}
	tzs := cal.Timezones()
	if len(tzs) != 1 || tzs[0].GetProperty(ics.ComponentPropertyTzid).Value != "Europe/Berlin" {
		t.Fatalf("VTIMEZONE: %+v", tzs)
	}
	if !strings.Contains(string(data), "BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nEND:DAYLIGHT") ||
		!strings.Contains(string(data), "BEGIN:STANDARD\r\nDTSTART:20271031T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nEND:STANDARD") {
		t.Errorf("VTIMEZONE lacks the 2027 transitions:\n%s", data)
	}

	// A move keeps the UID and raises SEQUENCE.
	h.Send(Ana, "!study 1 move saturday 17:00")
	h.Drain()
	data = icsOf(t, h, "1 ics")
	checkRFC5545(t, data)
	_, e = event(t, data)
	if e.Id() != uid || prop(e, ics.ComponentPropertySequence) != "1" || prop(e, ics.ComponentPropertyDtStart) != "20261128T170000" {
		t.Errorf("after move (uid %s):\n%s", uid, data)
	}
	h.Send(Ana, "!study 1 cancel")
	h.Drain()
	_, e = event(t, icsOf(t, h, "ics"))
	if e.Id() != uid || prop(e, ics.ComponentPropertySequence) != "2" || prop(e, ics.ComponentPropertyStatus) != "CANCELLED" {
		t.Errorf("after cancel: uid %s, sequence %s, status %s", e.Id(), prop(e, ics.ComponentPropertySequence), prop(e, ics.ComponentPropertyStatus))
	}
	// A session with neither topic nor private place has no DESCRIPTION.
	newSession(t, h, "Plain circle at saturday 18:00 where the pub")
	if data := icsOf(t, h, "2 ics"); strings.Contains(string(data), "DESCRIPTION") {
		t.Errorf("an empty description:\n%s", data)
	}
}

func TestUTCOffset(t *testing.T) {
	for _, tc := range []struct {
		sec  int
		want string
	}{{0, "+0000"}, {3600, "+0100"}, {-12600, "-0330"}, {19800, "+0530"}, {3208, "+005328"}} {
		if got := utcOffset(tc.sec); got != tc.want {
			t.Errorf("utcOffset(%d) = %q, want %q", tc.sec, got, tc.want)
		}
	}
}

// TestStudyICSSeriesMovedOn: once a weekly series has moved on to its next
// session, its calendar event still starts at the series' first one, with
// the rule: a calendar would otherwise lose the sessions before and shift
// the whole series.
func TestStudyICSSeriesMovedOn(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	newSession(t, h, "Theory night at thursday 19:00 every week")
	h.Clock.Advance(34 * time.Hour) // past Thursday 26 Nov's session: the series moves on
	h.Due()
	h.Drain()
	if got := h.Reply(Ana, "!study 1"); !strings.Contains(got, "3 Dec") {
		t.Fatalf("the series did not move on: %q", got)
	}
	_, e := event(t, icsOf(t, h, "1 ics"))
	if start, err := e.GetStartAt(); err != nil || !start.Equal(time.Date(2026, 11, 26, 19, 0, 0, 0, time.UTC)) {
		t.Errorf("DTSTART of the series after it moved on = %v, %v; want its first session, 26 Nov 19:00", start, err)
	}
	if prop(e, ics.ComponentPropertyRrule) != "FREQ=WEEKLY" {
		t.Errorf("RRULE = %q", prop(e, ics.ComponentPropertyRrule))
	}
}
