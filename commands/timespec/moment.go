package timespec

import (
	"fmt"
	"quorum/msg"
	"regexp"
	"strconv"
	"time"
)

var (
	isoDateTimeRE = regexp.MustCompile(`^(\d{4}-\d{1,2}-\d{1,2})t(.+)$`)
	isoDateRE     = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	dotDateRE     = regexp.MustCompile(`^(\d{1,2})\.(\d{1,2})\.(\d{4})$`)
	slashDateRE   = regexp.MustCompile(`^\d{1,4}/\d{1,2}(/\d{1,4})?$`)
	clockRE       = regexp.MustCompile(`^(\d{1,2}):(\d{2})(am|pm|a\.m\.|p\.m\.)?$`)
	hourAmPmRE    = regexp.MustCompile(`^(\d{1,2})(am|pm|a\.m\.|p\.m\.)$`)
	hourRE        = regexp.MustCompile(`^\d{1,2}$`)
	dayOfMonthRE  = regexp.MustCompile(`^\d{1,2}$`)
	yearRE        = regexp.MustCompile(`^\d{4}$`)
)

// Moment reads a point in time, such as when a motion closes or a reminder is
// due, typed relative to now and meant in loc (nil means UTC). See the
// package comment for the grammar and how weekdays, missing times and DST are
// resolved. The result is strictly after now and at most MaxDuration ahead;
// a time that has passed gives an *Error wrapping ErrPast.
func Moment(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	in, e := checkInput(s, aTime)
	if e != nil {
		return time.Time{}, e
	}
	now = now.In(loc)
	toks := tokenize(in)

	// Relative: "48h", "in 3 days", "3 days from now".
	rel, relText := "", ""
	switch {
	case toks[0].text == "in":
		if len(toks) == 1 {
			return time.Time{}, fail(in, msg.T(`"in" needs a length of time after it, e.g. "in 3 days" or "in 2h".`))
		}
		rel, relText = in[toks[1].start:], "in"
	case len(toks) >= 3 && toks[len(toks)-2].text == "from" && toks[len(toks)-1].text == "now":
		rel, relText = in[:toks[len(toks)-3].end], "from now"
	}
	if rel != "" {
		sp, se := parseSpan(rel)
		if se != nil {
			if !se.specific {
				return time.Time{}, fail(in, msg.T(`I couldn't read %s as a length of time after %q. Try "in 3 days", "in 2h" or "in 90m".`, quote(rel), relText))
			}
			return time.Time{}, se.error(in, aTime)
		}
		return addSpan(now, sp), nil
	}
	if sp, se := parseSpan(in); se == nil {
		return addSpan(now, sp), nil
	} else if se.definite {
		return time.Time{}, se.error(in, aTime)
	}

	p := &parser{in: in, toks: toks}
	day, e := p.day()
	if e != nil {
		return time.Time{}, e
	}
	clock, e := p.clock(day.kind != dayNone)
	if e != nil {
		return time.Time{}, e
	}
	if e := p.end(aTime); e != nil {
		return time.Time{}, e
	}
	if day.kind == dayNone && !clock.ok {
		return time.Time{}, couldNot(in, aTime)
	}
	if !clock.ok {
		if day.kind == dayToday {
			return time.Time{}, fail(in, msg.T(`Which time today? Try "today 18:00" or "in 2h".`))
		}
		clock = clockSpec{hour: DefaultHour, ok: true}
	}
	t, e := day.resolve(in, now, clock, loc)
	if e != nil {
		return time.Time{}, e
	}
	if !t.After(now) {
		return time.Time{}, &Error{Input: in, kind: ErrPast,
			text: msg.T("%s (%s) has already passed; pick a later time, e.g. \"tomorrow %s\".", quote(in), Human(t, loc), fmt.Sprintf("%02d:%02d", clock.hour, clock.minute))}
	}
	if t.Sub(now) > MaxDuration {
		return time.Time{}, &Error{Input: in, kind: ErrTooFar,
			text: msg.T("%s is more than 10 years away; pick a nearer time.", quote(in))}
	}
	return t, nil
}

// Date reads a calendar day, as in "skip 2026-12-01", "away @x 2026-12-01
// 2026-12-14" or "from 2026-11-01", and returns the start of that day in loc
// (nil means UTC): midnight, or the first instant of the day where a DST
// change skips midnight. Accepts ISO and dotted dates, "1 dec [2026]",
// "today", "tomorrow" and weekday names, which mean the next such day with
// today included ("next monday" excludes today). A date without a year is
// its next occurrence from today. The day must be within MaxDuration of
// today, in either direction.
func Date(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	in, e := checkInput(s, aDate)
	if e != nil {
		return time.Time{}, e
	}
	now = now.In(loc)
	p := &parser{in: in, toks: tokenize(in)}
	day, e := p.day()
	if e != nil {
		return time.Time{}, e
	}
	if day.kind == dayNone {
		return time.Time{}, couldNot(in, aDate)
	}
	if e := p.end(aDate); e != nil {
		return time.Time{}, e
	}
	y, m, d := now.Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	var target time.Time // naive, in UTC
	switch day.kind {
	case dayToday:
		target = today
	case dayTomorrow:
		target = today.AddDate(0, 0, 1)
	case dayWeekday:
		n := int(day.weekday-today.Weekday()+7) % 7
		if n == 0 && day.next {
			n = 7
		}
		target = today.AddDate(0, 0, n)
	case dayDate:
		years := []int{day.year}
		if !day.yearGiven {
			years = nextYears(y)
		}
		for _, yy := range years {
			if !validDate(yy, day.month, day.dom) {
				continue
			}
			target = time.Date(yy, day.month, day.dom, 0, 0, 0, 0, time.UTC)
			if day.yearGiven || !target.Before(today) {
				break
			}
		}
		if e := day.checkDate(in, target); e != nil {
			return time.Time{}, e
		}
	}
	// Compared as times: Sub saturates, and negating its minimum overflows.
	if target.Before(today.Add(-MaxDuration)) || target.After(today.Add(MaxDuration)) {
		return time.Time{}, &Error{Input: in, kind: ErrTooFar,
			text: msg.T("%s is more than 10 years from today; pick a nearer date.", quote(in))}
	}
	return wallTime(target.Year(), target.Month(), target.Day(), 0, 0, 0, 0, loc), nil
}

// addSpan adds days on the calendar (keeping the clock time) and the rest as
// exact time.
func addSpan(now time.Time, sp span) time.Time {
	t := now
	if sp.days > 0 {
		y, m, d := now.Date()
		hh, mm, ss := now.Clock()
		t = wallTime(y, m, d+int(sp.days), hh, mm, ss, now.Nanosecond(), now.Location())
	}
	return t.Add(time.Duration(sp.minutes) * time.Minute)
}

type dayKind int

const (
	dayNone dayKind = iota
	dayToday
	dayTomorrow
	dayWeekday
	dayDate
)

// daySpec is the day part of what was typed.
type daySpec struct {
	kind    dayKind
	weekday time.Weekday // dayWeekday
	next    bool         // "next friday": never today
	// dayDate:
	year       int
	month      time.Month
	dom        int
	yearGiven  bool
	hasWeekday bool // "fri 1 dec": weekday must match
}

type clockSpec struct {
	hour, minute int
	ok           bool
}

// resolve picks the moment for day and clock: the first candidate strictly
// after now for weekdays and dates without a year.
func (day daySpec) resolve(in string, now time.Time, clock clockSpec, loc *time.Location) (time.Time, *Error) {
	y, m, d := now.Date()
	at := func(y int, m time.Month, d int) time.Time {
		return wallTime(y, m, d, clock.hour, clock.minute, 0, 0, loc)
	}
	switch day.kind {
	case dayNone:
		if t := at(y, m, d); t.After(now) {
			return t, nil
		}
		return at(y, m, d+1), nil
	case dayToday:
		return at(y, m, d), nil
	case dayTomorrow:
		return at(y, m, d+1), nil
	case dayWeekday:
		first := 0
		if day.next {
			first = 1
		}
		var t time.Time
		for i := first; i < first+14; i++ {
			t = at(y, m, d+i)
			if time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC).Weekday() == day.weekday && t.After(now) {
				break
			}
		}
		return t, nil
	}
	// dayDate
	years := []int{day.year}
	if !day.yearGiven {
		years = nextYears(y)
	}
	var t time.Time
	var naive time.Time
	for _, yy := range years {
		if !validDate(yy, day.month, day.dom) {
			continue
		}
		t = at(yy, day.month, day.dom)
		naive = time.Date(yy, day.month, day.dom, 0, 0, 0, 0, time.UTC)
		if day.yearGiven || t.After(now) {
			break
		}
	}
	if e := day.checkDate(in, naive); e != nil {
		return time.Time{}, e
	}
	return t, nil
}

// nextYears are the years tried for a date typed without one: enough to
// reach the next 29 February.
func nextYears(y int) []int {
	return []int{y, y + 1, y + 2, y + 3, y + 4, y + 5, y + 6, y + 7, y + 8}
}

// checkDate explains an impossible date, and a weekday that does not match.
func (day daySpec) checkDate(in string, naive time.Time) *Error {
	if day.month < 1 || day.month > 12 || day.dom < 1 {
		return fail(in, msg.T(`%s isn't a real date; write year-month-day, e.g. "2026-12-01".`, quote(in)))
	}
	if naive.IsZero() || (day.yearGiven && !validDate(day.year, day.month, day.dom)) {
		if day.yearGiven {
			return fail(in, msg.T(`%s isn't a real date: %s %d has %d days.`, quote(in), monthName(day.month), day.year, daysIn(day.year, day.month)))
		}
		return fail(in, msg.T(`%s isn't a real date: %s has at most %d days.`, quote(in), monthName(day.month), daysIn(2024, day.month)))
	}
	if day.hasWeekday && naive.Weekday() != day.weekday {
		// "2 Jan 2006" is a layout, not for members.
		return fail(in, msg.T(`%s: %s is a %s, not a %s.`, quote(in), Layout(naive, nil, "2 Jan 2006"), weekdayName(naive.Weekday()), weekdayName(day.weekday)))
	}
	return nil
}

func validDate(y int, m time.Month, d int) bool {
	return m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, m)
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parser walks the tokens of a Moment or Date.
type parser struct {
	in   string
	toks []token
	pos  int
}

func (p *parser) peek(k int) string {
	if p.pos+k < len(p.toks) {
		return p.toks[p.pos+k].text
	}
	return ""
}

// end fails unless every token was used, naming the part understood.
func (p *parser) end(w what) *Error {
	if p.pos == len(p.toks) {
		return nil
	}
	if p.pos == 0 {
		return couldNot(p.in, w)
	}
	return extra(p.in, p.in[:p.toks[p.pos-1].end], p.in[p.toks[p.pos].start:])
}

// day reads an optional day: [on] today | tomorrow | [this|next] WEEKDAY |
// ISO | dotted | [WEEKDAY] D MONTH [YEAR] | MONTH D [YEAR], then an optional
// comma.
func (p *parser) day() (daySpec, *Error) {
	var day daySpec
	startPos := p.pos
	if p.peek(0) == "on" && p.peek(1) != "" {
		p.pos++
	}
	tok := p.peek(0)
	wd, isWeekday := weekdayWords[tok]
	switch {
	case tok == "today":
		day.kind = dayToday
		p.pos++
	case tok == "tomorrow" || tok == "tmrw":
		day.kind = dayTomorrow
		p.pos++
	case tok == "this" || tok == "next":
		wd, ok := weekdayWords[p.peek(1)]
		if !ok {
			return day, fail(p.in, msg.T(`%q needs a weekday after it, e.g. %q.`, tok, tok+" friday"))
		}
		day = daySpec{kind: dayWeekday, weekday: wd, next: tok == "next"}
		p.pos += 2
	case isWeekday:
		p.pos++
		afterWeekday := p.pos
		if p.peek(0) == "," && p.peek(1) != "" {
			p.pos++
		}
		if d, ok, e := p.monthDate(); e != nil {
			return day, e
		} else if ok {
			d.hasWeekday, d.weekday = true, wd
			day = d
		} else {
			p.pos = afterWeekday
			day = daySpec{kind: dayWeekday, weekday: wd}
		}
	default:
		d, ok, e := p.numericDate()
		if e != nil {
			return day, e
		}
		if !ok {
			if d, ok, e = p.monthDate(); e != nil {
				return day, e
			}
		}
		if !ok {
			p.pos = startPos // a lone "on" is not a day
			return day, nil
		}
		day = d
	}
	if p.peek(0) == "," && p.peek(1) != "" {
		p.pos++
	}
	return day, nil
}

// numericDate reads 2026-12-01 or 1.12.2026, and explains slashed dates.
func (p *parser) numericDate() (daySpec, bool, *Error) {
	tok := p.peek(0)
	m := isoDateRE.FindStringSubmatch(tok)
	if m == nil {
		if m = dotDateRE.FindStringSubmatch(tok); m != nil {
			m = []string{m[0], m[3], m[2], m[1]}
		}
	}
	if m == nil {
		if slashDateRE.MatchString(tok) {
			return daySpec{}, false, fail(p.in, msg.T(`%s could be read two ways; write year-month-day, e.g. "2026-12-01".`, quote(tok)))
		}
		return daySpec{}, false, nil
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	day := daySpec{kind: dayDate, year: y, month: time.Month(mo), dom: d, yearGiven: true}
	if !validDate(y, day.month, d) {
		return day, false, day.checkDate(p.in, time.Time{})
	}
	p.pos++
	return day, true, nil
}

// monthDate reads "1 dec [2026]" or "dec 1 [2026]".
func (p *parser) monthDate() (daySpec, bool, *Error) {
	var domTok string
	var month time.Month
	if mo, ok := monthWords[p.peek(1)]; ok && dayOfMonthRE.MatchString(p.peek(0)) {
		domTok, month = p.peek(0), mo
	} else if mo, ok := monthWords[p.peek(0)]; ok && dayOfMonthRE.MatchString(p.peek(1)) {
		domTok, month = p.peek(1), mo
	} else {
		return daySpec{}, false, nil
	}
	dom, _ := strconv.Atoi(domTok)
	p.pos += 2
	day := daySpec{kind: dayDate, month: month, dom: dom}
	if yearRE.MatchString(p.peek(0)) {
		day.year, _ = strconv.Atoi(p.peek(0))
		day.yearGiven = true
		p.pos++
	}
	if dom < 1 || dom > daysIn(2024, month) || (day.yearGiven && !validDate(day.year, month, dom)) {
		return day, false, day.checkDate(p.in, time.Time{})
	}
	return day, true, nil
}

// clock reads an optional [at] TIME. A bare hour ("tomorrow 9") is only
// taken after a day, where it cannot be mistaken for anything else.
func (p *parser) clock(bareHour bool) (clockSpec, *Error) {
	at := false
	if p.peek(0) == "at" {
		at = true
		p.pos++
	}
	c, e := p.clockTok(bareHour || at)
	if e != nil {
		return c, e
	}
	if at && !c.ok {
		return c, fail(p.in, msg.T(`"at" needs a time after it, e.g. "at 18:00" or "at 6pm".`))
	}
	return c, nil
}

func (p *parser) clockTok(bareHour bool) (clockSpec, *Error) {
	tok := p.peek(0)
	suffix := ""
	var hour, minute int
	switch {
	case tok == "noon" || tok == "midday":
		p.pos++
		return clockSpec{hour: 12, ok: true}, nil
	case clockRE.MatchString(tok):
		m := clockRE.FindStringSubmatch(tok)
		hour, _ = strconv.Atoi(m[1])
		minute, _ = strconv.Atoi(m[2])
		suffix = m[3]
		p.pos++
	case hourAmPmRE.MatchString(tok):
		m := hourAmPmRE.FindStringSubmatch(tok)
		hour, _ = strconv.Atoi(m[1])
		suffix = m[2]
		p.pos++
	case hourRE.MatchString(tok) && isAmPm(p.peek(1)):
		hour, _ = strconv.Atoi(tok)
		p.pos++
	case hourRE.MatchString(tok) && bareHour:
		hour, _ = strconv.Atoi(tok)
		p.pos++
	default:
		return clockSpec{}, nil
	}
	if suffix == "" && isAmPm(p.peek(0)) {
		suffix = p.peek(0)
		p.pos++
	}
	if minute > 59 {
		return clockSpec{}, fail(p.in, msg.T(`%s isn't a time of day; minutes go up to 59, e.g. "18:59".`, quote(p.in)))
	}
	if suffix != "" {
		if hour < 1 || hour > 12 {
			return clockSpec{}, fail(p.in, msg.T(`%s isn't a time of day; with am/pm use hours 1 to 12, e.g. "6pm", or write "18:00".`, quote(p.in)))
		}
		hour %= 12
		if suffix[0] == 'p' {
			hour += 12
		}
	}
	if hour > 23 {
		return clockSpec{}, fail(p.in, msg.T(`%s isn't a time of day; use 00:00 to 23:59, e.g. "18:00" or "6pm".`, quote(p.in)))
	}
	return clockSpec{hour: hour, minute: minute, ok: true}, nil
}

func isAmPm(s string) bool {
	switch s {
	case "am", "pm", "a.m.", "p.m.":
		return true
	}
	return false
}
