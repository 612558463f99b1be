package timespec

import (
	"errors"
	"fmt"
	"quorum/locale"
	"quorum/msg"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Freq is the unit a Recurrence repeats in.
type Freq int

// The units of repetition people ask for. The zero Freq is invalid, so that
// a zero Recurrence means "does not repeat".
const (
	Daily Freq = iota + 1
	Weekly
	Monthly
	Yearly
)

// Weekdays is a set of days of the week (bit 1<<d for time.Weekday d), for
// weekly repeats on named days.
type Weekdays uint8

// MondayToFriday is the set meant by "every weekday".
const MondayToFriday Weekdays = 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday

const allWeekdays Weekdays = 1<<7 - 1

// WeekdaysOf builds a set, for callers constructing a Recurrence by hand.
func WeekdaysOf(days ...time.Weekday) Weekdays {
	var w Weekdays
	for _, d := range days {
		w |= 1 << (d % 7)
	}
	return w
}

// Has reports whether d is in the set.
func (w Weekdays) Has(d time.Weekday) bool { return d >= 0 && d < 7 && w&(1<<d) != 0 }

// mondayFirst is the order in which days are listed to people and in RRULEs.
var mondayFirst = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// names lists the days for a sentence: "monday", "monday and thursday",
// "monday, wednesday and friday"; with plural, MondayToFriday is "weekdays".
func (w Weekdays) names(plural bool) string {
	if plural && w == MondayToFriday {
		return "weekdays"
	}
	var names []string
	for _, d := range mondayFirst {
		if w.Has(d) {
			names = append(names, strings.ToLower(d.String()))
		}
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// Recurrence is how a roster, study session or reminder repeats. It is a
// comparable value: store it as its RRule (see ParseRRule) or its String
// (see ParseRecurrence). The zero value does not repeat.
type Recurrence struct {
	Freq Freq
	// Interval is how many units pass between repeats, at least 1.
	Interval int
	// Days, only for Weekly, names the days of the week it falls on; empty
	// means the start's weekday.
	Days Weekdays
}

// maxInterval keeps repeats at most about MaxDuration apart.
// MaxReplay bounds how many occurrences are replayed from a series' start
// (a daily roster for 27 years; a reminder's occurrences missed while the
// bot was down). Past it, no more are given.
const MaxReplay = 10000

var maxInterval = map[Freq]int{Daily: 3653, Weekly: 521, Monthly: 120, Yearly: 10}

// IsZero reports whether r is the zero value, which does not repeat.
func (r Recurrence) IsZero() bool { return r == Recurrence{} }

func (r Recurrence) valid() bool {
	max, ok := maxInterval[r.Freq]
	return ok && r.Interval >= 1 && r.Interval <= max &&
		r.Days&^allWeekdays == 0 && (r.Days == 0 || r.Freq == Weekly)
}

// ParseRecurrence reads how something repeats, as typed after "every" (which
// may be included): "day", "3 days", "week", "weekly", "2 weeks",
// "other week", "fortnight", "month", "monthly", "year", "tuesday",
// "2 tuesdays", "other tuesday", "monday and thursday", "2 weeks on monday",
// "weekday" (Monday to Friday). Case-insensitive; repeats are at most 10
// years apart.
func ParseRecurrence(s string) (Recurrence, error) {
	in, e := checkInput(s, aRepeat)
	if e != nil {
		return Recurrence{}, e
	}
	p := &parser{in: in, toks: tokenize(in)}
	if e := p.every(); e != nil {
		return Recurrence{}, e
	}
	n, numbered, e := p.repeatCount()
	if e != nil {
		return Recurrence{}, e
	}
	r, e := p.period(n, numbered)
	if e != nil {
		return Recurrence{}, e
	}
	if e := p.end(aRepeat); e != nil {
		return Recurrence{}, e
	}
	return r, r.check(in)
}

// every skips a leading "every", which String writes and people may type.
// Alone it gets a hint rather than the generic message.
func (p *parser) every() *Error {
	if p.peek(0) != "every" {
		return nil
	}
	p.pos++
	if p.peek(0) == "" {
		return fail(p.in, msg.T(`"every" needs a period after it, e.g. "every week", "every 2 weeks" or "every tuesday".`))
	}
	return nil
}

// repeatCount reads how many periods pass between repeats: "3", "three" or
// "other" (2); without one, 1. numbered reports whether one was given, as
// some periods refuse a number ("every 2 weekly"). More than four digits is
// too far apart for any period, so it is refused before it is converted.
// "a" and "an", numbers in durations ("a day"), are not counts here.
func (p *parser) repeatCount() (n int, numbered bool, e *Error) {
	n = 1
	switch tok := p.peek(0); {
	case tok == "other":
		n, numbered = 2, true
	case len(tok) > 0 && len(tok) <= 4 && strings.Trim(tok, "0123456789") == "":
		n, _ = strconv.Atoi(tok)
		numbered = true
	case len(tok) > 4 && strings.Trim(tok, "0123456789") == "":
		return 0, false, tooFarApart(p.in)
	case tok != "a" && tok != "an" && numberWords[tok] > 0:
		n, numbered = numberWords[tok], true
	}
	if !numbered {
		return n, false, nil
	}
	p.pos++
	if n == 0 {
		return 0, false, fail(p.in, msg.T(`%s never comes round; try "every week" or "every 2 weeks".`, quote(p.in)))
	}
	return n, true, nil
}

// adverbs are the one-word repeats, with the unit to suggest when a number
// comes before one: "every 2 weekly" should be "every 2 weeks".
var adverbs = map[string]struct {
	r    Recurrence
	unit string
}{
	"daily":       {Recurrence{Freq: Daily, Interval: 1}, "days"},
	"weekly":      {Recurrence{Freq: Weekly, Interval: 1}, "weeks"},
	"fortnightly": {Recurrence{Freq: Weekly, Interval: 2}, "fortnights"},
	"monthly":     {Recurrence{Freq: Monthly, Interval: 1}, "months"},
	"yearly":      {Recurrence{Freq: Yearly, Interval: 1}, "years"},
	"annually":    {Recurrence{Freq: Yearly, Interval: 1}, "years"},
}

// period reads what repeats every n times: a unit ("2 weeks"), an adverb
// ("weekly") or weekdays ("tuesday"). A weekly unit or adverb may name its
// days after "on".
func (p *parser) period(n int, numbered bool) (Recurrence, *Error) {
	var r Recurrence
	switch tok := p.peek(0); tok {
	case "day", "days":
		r = Recurrence{Freq: Daily, Interval: n}
	case "week", "weeks":
		r = Recurrence{Freq: Weekly, Interval: n}
	case "fortnight", "fortnights":
		r = Recurrence{Freq: Weekly, Interval: 2 * n}
	case "month", "months":
		r = Recurrence{Freq: Monthly, Interval: n}
	case "year", "years":
		r = Recurrence{Freq: Yearly, Interval: n}
	default:
		a, ok := adverbs[tok]
		if !ok {
			return p.weekdayRepeat(n, numbered)
		}
		if numbered {
			return Recurrence{}, fail(p.in, msg.T(`I couldn't read %s as a repeat; say "every %d %s" instead.`, quote(p.in), n, a.unit))
		}
		r = a.r
	}
	p.pos++
	if r.Freq == Weekly && p.peek(0) == "on" {
		return p.onDays(r)
	}
	return r, nil
}

// onDays reads the weekdays after "on" ("every 2 weeks on monday") into the
// weekly r; without them, r falls on its start's weekday.
func (p *parser) onDays(r Recurrence) (Recurrence, *Error) {
	p.pos++ // "on"
	days, ok, e := p.weekdayList()
	if e != nil {
		return Recurrence{}, e
	}
	if !ok {
		return Recurrence{}, fail(p.in, msg.T(`"on" needs a weekday after it, e.g. "every 2 weeks on monday".`))
	}
	r.Days = days
	return r, nil
}

// weekdayRepeat reads a weekly repeat named by its days: "tuesday",
// "2 tuesdays", "monday and thursday", "weekday". It is the last reading
// tried, so anything else is not a repeat; a number with nothing after it
// ("every 2") gets a hint, as it most likely lacks its unit.
func (p *parser) weekdayRepeat(n int, numbered bool) (Recurrence, *Error) {
	tok := p.peek(0)
	days, ok, e := p.weekdayList()
	if e != nil {
		return Recurrence{}, e
	}
	if !ok {
		if numbered && tok == "" {
			return Recurrence{}, fail(p.in, msg.T(`%s needs a unit, e.g. "every %d days" or "every %d weeks".`, quote(p.in), n, n))
		}
		return Recurrence{}, couldNot(p.in, aRepeat)
	}
	// "every 2 weekdays" could mean every other working day or Monday to
	// Friday every other week; the message offers a way to say either.
	if days == MondayToFriday && numbered && n > 1 {
		return Recurrence{}, fail(p.in, msg.T(`I can't repeat %s; try "every weekday" or "every 2 weeks on monday".`, quote(p.in)))
	}
	return Recurrence{Freq: Weekly, Interval: n, Days: days}, nil
}

func (r Recurrence) check(in string) error {
	if r.Interval > maxInterval[r.Freq] {
		return tooFarApart(in)
	}
	return nil
}

func tooFarApart(in string) *Error {
	return &Error{Input: in, kind: ErrTooFar,
		text: msg.T(`%s is too far apart; repeats can be at most 10 years apart, e.g. "every 2 years".`, quote(in))}
}

// weekdayList reads "tuesday", "tuesdays", "weekday(s)", "monday and
// thursday", "mon, wed and fri".
func (p *parser) weekdayList() (Weekdays, bool, *Error) {
	var days Weekdays
	for {
		tok := p.peek(0)
		if d, ok := weekdayWords[tok]; ok {
			days |= 1 << d
		} else if d, ok := weekdayPlurals[tok]; ok {
			days |= 1 << d
		} else if tok == "weekday" || tok == "weekdays" {
			days |= MondayToFriday
		} else if days == 0 {
			return 0, false, nil
		} else {
			return 0, false, fail(p.in, msg.T(`I couldn't read %s as a repeat: a weekday should follow "and" or ",". Try "every monday and thursday".`, quote(p.in)))
		}
		p.pos++
		sep := false
		if p.peek(0) == "," {
			p.pos++
			sep = true
		}
		if p.peek(0) == "and" {
			p.pos++
			sep = true
		}
		if !sep {
			return days, true, nil
		}
	}
}

// Localize implements msg.Localizer: r as a reply words it, in the
// reader's language ("cada 2 semanas: lunes y jueves"); in English it is
// String, which members can type back.
func (r Recurrence) Localize(lang string) string {
	if !r.valid() {
		return ""
	}
	return r.text().In(lang)
}

func (r Recurrence) text() msg.Text {
	if r.Days != 0 {
		switch {
		case r.Interval > 1 && r.Days == MondayToFriday:
			return msg.T("every %d weeks on weekdays", r.Interval)
		case r.Interval > 1:
			return msg.T("every %d weeks on %s", r.Interval, r.Days.list())
		case r.Days == MondayToFriday:
			return msg.T("every weekday")
		default:
			return msg.T("every %s", r.Days.list())
		}
	}
	if r.Interval == 1 {
		return [...]msg.Text{Daily: msg.T("every day"), Weekly: msg.T("every week"), Monthly: msg.T("every month"), Yearly: msg.T("every year")}[r.Freq]
	}
	return [...]msg.Text{
		Daily:   msg.T("every %d days", r.Interval),
		Weekly:  msg.T("every %d weeks", r.Interval),
		Monthly: msg.T("every %d months", r.Interval),
		Yearly:  msg.T("every %d years", r.Interval),
	}[r.Freq]
}

// list is names(false) in the reader's language.
func (w Weekdays) list() msg.Text {
	var days []any
	for _, d := range mondayFirst {
		if w.Has(d) {
			days = append(days, dayWord(d))
		}
	}
	if len(days) == 1 {
		return msg.T("%s", days[0])
	}
	return msg.T("%s and %s", msg.List(", ", days[:len(days)-1]...), days[len(days)-1])
}

// dayWord is a weekday as a repeat names it: "monday" in English, as typed,
// and the language's own name in others.
type dayWord time.Weekday

// Localize implements msg.Localizer.
func (d dayWord) Localize(lang string) string {
	if l, ok := locale.Lookup(lang); !ok || l.Code == locale.Default {
		return strings.ToLower(time.Weekday(d).String())
	}
	return weekdayName(time.Weekday(d)).Localize(lang)
}

// String is the canonical wording, e.g. "every 2 weeks", "every tuesday",
// "every 2 weeks on monday and thursday", "every weekday", for replies and
// storage: ParseRecurrence(r.String()) == r. It is "" for an invalid r.
// Like a command, it is English in every language: members type it back.
func (r Recurrence) String() string {
	if !r.valid() {
		return ""
	}
	if r.Days != 0 {
		switch {
		case r.Interval > 1:
			return fmt.Sprintf("every %d weeks on %s", r.Interval, r.Days.names(true)) // not for members: typed form
		case r.Days == MondayToFriday:
			return "every weekday"
		default:
			return "every " + r.Days.names(false)
		}
	}
	unit := [...]string{Daily: "day", Weekly: "week", Monthly: "month", Yearly: "year"}[r.Freq]
	if r.Interval == 1 {
		return "every " + unit
	}
	return fmt.Sprintf("every %d %ss", r.Interval, unit) // not for members: typed form
}

// RRule is the RFC 5545 RRULE value, e.g. "FREQ=WEEKLY;INTERVAL=2" or
// "FREQ=WEEKLY;BYDAY=TU", for calendar export and storage (see ParseRRule).
// The series' DTSTART is not part of it. It is "" for an invalid r.
func (r Recurrence) RRule() string {
	if !r.valid() {
		return ""
	}
	o := r.option(time.Time{})
	return o.RRuleString()
}

var toRRuleDay = [7]rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}
var fromRRuleDay = [7]time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

func (r Recurrence) option(dtstart time.Time) rrule.ROption {
	o := rrule.ROption{Dtstart: dtstart}
	o.Freq = map[Freq]rrule.Frequency{Daily: rrule.DAILY, Weekly: rrule.WEEKLY, Monthly: rrule.MONTHLY, Yearly: rrule.YEARLY}[r.Freq]
	if r.Interval > 1 {
		o.Interval = r.Interval
	}
	for _, d := range mondayFirst {
		if r.Days.Has(d) {
			o.Byweekday = append(o.Byweekday, toRRuleDay[d])
		}
	}
	return o
}

// ParseRRule reads back an RRULE value written by RRule (an "RRULE:" prefix
// is allowed), for loading stored series. Rules using anything RRule does not
// write (COUNT, UNTIL, BYMONTHDAY, ...) are refused. Its errors are for logs,
// not for people.
func ParseRRule(s string) (Recurrence, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "RRULE:")
	if strings.ContainsAny(s, "\r\n") {
		return Recurrence{}, fmt.Errorf("timespec: RRULE %q has more than one line", s)
	}
	o, err := rrule.StrToROption(s)
	if err != nil {
		return Recurrence{}, fmt.Errorf("timespec: reading RRULE %q: %w", s, err)
	}
	unsupported := fmt.Errorf("timespec: RRULE %q uses more than FREQ, INTERVAL and BYDAY", s)
	if o.Count != 0 || !o.Until.IsZero() || !o.Dtstart.IsZero() || o.Wkst != rrule.MO ||
		len(o.Bysetpos)+len(o.Bymonth)+len(o.Bymonthday)+len(o.Byyearday)+len(o.Byweekno)+
			len(o.Byhour)+len(o.Byminute)+len(o.Bysecond)+len(o.Byeaster) != 0 {
		return Recurrence{}, unsupported
	}
	r := Recurrence{Interval: max(o.Interval, 1)}
	switch o.Freq {
	case rrule.DAILY:
		r.Freq = Daily
	case rrule.WEEKLY:
		r.Freq = Weekly
	case rrule.MONTHLY:
		r.Freq = Monthly
	case rrule.YEARLY:
		r.Freq = Yearly
	default:
		return Recurrence{}, unsupported
	}
	for _, wd := range o.Byweekday {
		if wd.N() != 0 || r.Freq != Weekly {
			return Recurrence{}, unsupported
		}
		r.Days |= 1 << fromRRuleDay[wd.Day()]
	}
	if !r.valid() {
		return Recurrence{}, errors.New("timespec: RRULE " + strconv.Quote(s) + " repeats too rarely")
	}
	return r, nil
}

// maxOccurrences bounds what one Occurrences call returns.
const maxOccurrences = 10000

// Occurrences returns up to n (at most 10000) occurrences at or after from, of
// the series whose first occurrence is start, for roster turns and
// reminders. The series is exactly r.RRule() with DTSTART start, computed by
// rrule-go, except that:
//
//   - with Days, start moves to the next such day (at start's clock time)
//     before the rule applies, so "every 2 weeks on monday" started on a
//     Wednesday begins 5 days later, not 12 as RFC 5545 week anchoring gives;
//   - times are wall-clock times in start's location: 18:00 stays 18:00
//     across DST changes. A time that falls in a spring-forward gap moves
//     forward by the gap (a daily 02:30 is 03:30 that day), an ambiguous one
//     at fall-back is the earlier, and an occurrence that would not come
//     after the previous one is dropped.
//
// Monthly and yearly series keep start's day of the month and, as RFC 5545
// says, skip months (or years) without it: a series from 31 January falls on
// 31 March, 31 May, ...; from 29 February, only in leap years.
// An invalid r, a zero start or n <= 0 gives nil.
func (r Recurrence) Occurrences(start, from time.Time, n int) []time.Time {
	if !r.valid() || n <= 0 || start.IsZero() {
		return nil
	}
	n = min(n, maxOccurrences)
	loc := start.Location()
	nsec := start.Nanosecond()
	first := naiveWall(start).Truncate(time.Second)
	if r.Days != 0 {
		for !r.Days.Has(first.Weekday()) {
			first = first.AddDate(0, 0, 1)
		}
	}
	// Start rrule-go a few days before from (to allow for DST shifts), on an
	// occurrence, rather than iterating from a start long ago.
	dtstart := r.skipTo(first, naiveWall(from.In(loc)).AddDate(0, 0, -3))
	if dtstart.IsZero() {
		return nil // rrule-go would read it as "now"
	}
	rr, err := rrule.NewRRule(r.option(dtstart))
	if err != nil {
		return nil
	}
	next := rr.Iterator()
	var out []time.Time
	for len(out) < n {
		w, ok := next()
		if !ok {
			break
		}
		t := wallTime(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), nsec, loc)
		if t.Before(from) || len(out) > 0 && !t.After(out[len(out)-1]) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Next is the first occurrence strictly after after, or ok=false when there
// is none: when a reminder fires, Next gives the one to schedule.
func (r Recurrence) Next(start, after time.Time) (t time.Time, ok bool) {
	o := r.Occurrences(start, after.Add(time.Nanosecond), 1)
	if len(o) == 0 {
		return time.Time{}, false
	}
	return o[0], true
}

// naiveWall is t's wall-clock reading as a time in UTC, where calendar
// arithmetic has no DST.
func naiveWall(t time.Time) time.Time {
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	return time.Date(y, m, d, hh, mm, ss, t.Nanosecond(), time.UTC)
}

// skipTo returns the last occurrence of the (naive) series starting at first
// that is not after target, or first. Every occurrence is a valid start for
// the rest of the series.
func (r Recurrence) skipTo(first, target time.Time) time.Time {
	if !target.After(first) {
		return first
	}
	switch r.Freq {
	case Daily, Weekly:
		period := int64(r.Interval)
		if r.Freq == Weekly {
			period *= 7
		}
		days := (target.Unix() - first.Unix()) / 86400
		return first.AddDate(0, 0, int(days/period*period))
	default:
		step := r.Interval
		if r.Freq == Yearly {
			step *= 12
		}
		months := (target.Year()-first.Year())*12 + int(target.Month()-first.Month())
		y, m, d := first.Date()
		hh, mm, ss := first.Clock()
		for k, tries := months/step, 0; k > 0 && tries < 60; k, tries = k-1, tries+1 {
			c := time.Date(y, m+time.Month(k*step), d, hh, mm, ss, 0, time.UTC)
			if c.Day() == d && !c.After(target) {
				return c
			}
		}
		return first
	}
}
