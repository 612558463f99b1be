package timespec

import (
	"quorum/msg"
	"strconv"
	"strings"
	"time"
)

// Duration reads a length of time such as a delegate's "--term 90d":
// "90m", "48h", "3d", "2w", "1d12h", "2h 30m", "90 minutes", "2 weeks",
// "1 day", "a day", "two hours". Units go from weeks down to minutes, largest
// first, each at most once. The result is positive and at most MaxDuration;
// seconds, months, years and fractions are refused with a hint, because
// months and years have no fixed length and nobody needs seconds here.
func Duration(s string) (time.Duration, error) {
	in, e := checkInput(s, aDuration)
	if e != nil {
		return 0, e
	}
	sp, se := parseSpan(in)
	if se != nil {
		return 0, se.error(in, aDuration)
	}
	return sp.duration(), nil
}

// span is a parsed duration, kept in two parts so that Moment can add the
// days on the calendar and the rest as exact time.
type span struct {
	days    int64 // from weeks and days
	minutes int64 // from hours and minutes
}

func (sp span) duration() time.Duration {
	return time.Duration(sp.days)*24*time.Hour + time.Duration(sp.minutes)*time.Minute
}

// spanError is why input is not a duration. definite means the input was
// clearly meant as one ("-3h", "0m", "30s"), so Moment reports it rather than
// trying to read a date.
type spanError struct {
	text     msg.Text
	specific bool // false for the generic message
	definite bool
	kind     error
}

func (e *spanError) error(in string, w what) *Error {
	if !e.specific {
		return couldNot(in, w)
	}
	return &Error{Input: in, text: e.text, kind: e.kind}
}

// units maps unit words to their rank (largest first) and length in minutes.
var units = map[string]struct{ rank, minutes int64 }{
	"w": {4, 7 * 1440}, "wk": {4, 7 * 1440}, "wks": {4, 7 * 1440}, "week": {4, 7 * 1440}, "weeks": {4, 7 * 1440},
	"d": {3, 1440}, "day": {3, 1440}, "days": {3, 1440},
	"h": {2, 60}, "hr": {2, 60}, "hrs": {2, 60}, "hour": {2, 60}, "hours": {2, 60},
	"m": {1, 1}, "min": {1, 1}, "mins": {1, 1}, "minute": {1, 1}, "minutes": {1, 1},
}

// refusedUnits are units people may try, with the hint to give instead.
var refusedUnits = map[string]string{
	"s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds", "seconds": "seconds",
	"mo": "months", "mon": "months", "mos": "months", "month": "months", "months": "months",
	"y": "years", "yr": "years", "yrs": "years", "year": "years", "years": "years",
}

const maxDigits = 7

// parseSpan reads the whole of s as a duration: terms such as "2h" or
// "two hours", each a number and a unit, optionally joined by "and".
func parseSpan(s string) (span, *spanError) {
	r := spanReader{s: s, lastRank: 5} // above every rank: any unit may come first
	for {
		r.i = skipSpaces(s, r.i)
		if r.i == len(s) {
			return r.result()
		}
		// "and" may join two terms ("1 day and 12 hours"), but not come
		// first, last or twice in a row.
		if word(s, r.i) == "and" && r.count > 0 && !r.pendingAnd {
			r.pendingAnd = true
			r.i += len("and")
			continue
		}
		num, e := r.number()
		if e != nil {
			return span{}, e
		}
		r.pendingAnd = false
		if e := r.term(num); e != nil {
			return span{}, e
		}
	}
}

// spanReader is parseSpan's place in s and what it has read so far.
type spanReader struct {
	s          string
	i          int // the next byte of s to read
	sp         span
	total      int64 // minutes, for the bounds: days and minutes together
	lastRank   int64 // the previous unit's, so that units go largest first
	count      int   // terms read
	pendingAnd bool  // an "and" was read and no term after it yet
}

// number reads the number that starts a term: digits ("90") or a word
// ("two", "a"). An empty spanError is the generic failure: the input may
// still be something else, such as a date for Moment.
func (r *spanReader) number() (int64, *spanError) {
	switch c := r.s[r.i]; {
	case c == '-' || c == '+':
		return 0, r.sign()
	case isDigit(c):
		return r.digits()
	case isLetter(c):
		return r.numberWord()
	}
	return 0, &spanError{}
}

// sign refuses a sign. A leading "-" before a valid duration ("-3h") was
// clearly meant as one, so it gets its own definite message, which Moment
// then reports instead of trying to read a date.
func (r *spanReader) sign() *spanError {
	s := r.s
	if s[r.i] == '-' && r.i == 0 {
		if _, e := parseSpan(s[1:]); e == nil {
			return &spanError{specific: true, text: msg.T("%s goes backwards; a duration must be positive, e.g. %s.", quote(s), quote(strings.TrimSpace(s[1:]))), definite: true}
		}
	}
	return &spanError{}
}

// digits reads a number in digits. More than maxDigits is too long before
// it is even converted, so that nothing after can overflow.
func (r *spanReader) digits() (int64, *spanError) {
	s, i := r.s, r.i
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j-i > maxDigits {
		return 0, tooLong(s)
	}
	num, _ := strconv.ParseInt(s[i:j], 10, 64)
	if j+1 < len(s) && (s[j] == '.' || s[j] == ',') && isDigit(s[j+1]) {
		return 0, fraction(s, j+1)
	}
	r.i = j
	return num, nil
}

// fraction refuses a number with a decimal part that starts at s[k]. With a
// unit after it ("1.5h", "1,5h") it was meant as a duration, so the message
// says how to write one; otherwise it is the generic failure, since a date
// such as "01.12.2026" starts the same way.
func fraction(s string, k int) *spanError {
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if _, ok := units[word(s, k)]; ok {
		return &spanError{specific: true, text: msg.T("I can't use fractions like %s; try whole units such as \"1h30m\" or \"36h\".", quote(s)), definite: true}
	}
	return &spanError{}
}

// numberWord reads a number spelled as a word. It must end at a space or
// the end of s: the unit after it is a word too ("two hours").
func (r *spanReader) numberWord() (int64, *spanError) {
	w := word(r.s, r.i)
	n, ok := numberWords[w]
	if !ok {
		return 0, &spanError{}
	}
	r.i += len(w)
	if r.i < len(r.s) && !isSpace(r.s[r.i]) {
		return 0, &spanError{}
	}
	return int64(n), nil
}

// term reads the unit after num and adds num of it. Each unit may come
// once, largest first, so that a slip such as "2h 3d" is refused rather
// than added up.
func (r *spanReader) term(num int64) *spanError {
	r.i = skipSpaces(r.s, r.i)
	u := word(r.s, r.i)
	unit, ok := units[u]
	if !ok {
		return r.notAUnit(u, num)
	}
	if unit.rank >= r.lastRank {
		return &spanError{specific: true, text: msg.T("In %s, put each unit once, largest first, e.g. \"1d 12h\" or \"2h 30m\".", quote(r.s)), definite: true}
	}
	r.lastRank = unit.rank
	r.total += num * unit.minutes
	if unit.rank >= 3 { // weeks and days: on the calendar (see span)
		r.sp.days += num * unit.minutes / 1440
	} else {
		r.sp.minutes += num * unit.minutes
	}
	r.count++
	r.i += len(u)
	return nil
}

// notAUnit refuses u, read where a unit should be after num. Seconds,
// months and years are what people try, so each gets a hint; so does a lone
// number ("90"), but not definitely: to Moment, "18" need not be a duration,
// so it words its own message.
func (r *spanReader) notAUnit(u string, num int64) *spanError {
	s := r.s
	switch refusedUnits[u] {
	case "seconds":
		return &spanError{specific: true, text: msg.T("%s is too fine; the smallest unit is minutes, e.g. \"1m\" or \"90m\".", quote(s)), definite: true}
	case "months":
		return &spanError{specific: true, text: msg.T("Months vary in length, so I can't use %s; try days (\"30d\") or a date such as \"2026-12-01\".", quote(s)), definite: true}
	case "years":
		return &spanError{specific: true, text: msg.T("Years vary in length, so I can't use %s; try days (\"365d\") or a date such as \"2027-12-01\".", quote(s)), definite: true}
	}
	if u == "" && r.count == 0 && r.i == len(s) {
		return &spanError{specific: true, text: msg.T("%s needs a unit, e.g. \"%dm\", \"%dh\" or \"%dd\".", quote(s), num, num, num)}
	}
	return &spanError{}
}

// result is the span once all of s is read, if there was at least one term,
// no "and" left waiting, and the total is above zero and at most
// MaxDuration.
func (r *spanReader) result() (span, *spanError) {
	if r.count == 0 || r.pendingAnd {
		return span{}, &spanError{}
	}
	if r.total == 0 {
		return span{}, &spanError{specific: true, text: msg.T("%s is no time at all; give a length such as \"90m\" or \"2h\".", quote(r.s)), definite: true}
	}
	if r.total > int64(MaxDuration/time.Minute) { // compared in minutes: no overflow
		return span{}, tooLong(r.s)
	}
	return r.sp, nil
}

func tooLong(s string) *spanError {
	return &spanError{specific: true, text: msg.T("%s is too long; the most I accept is 10 years (\"3650d\").", quote(s)), definite: true, kind: ErrTooFar}
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func skipSpaces(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// word returns the run of ASCII letters at s[i:], lower-cased.
func word(s string, i int) string {
	j := i
	for j < len(s) && isLetter(s[j]) {
		j++
	}
	return toLowerASCII(s[i:j])
}

func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
