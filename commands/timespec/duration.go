package timespec

import (
	"fmt"
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
	msg      string // "" for the generic message
	definite bool
	kind     error
}

func (e *spanError) error(in string, w what) *Error {
	if e.msg == "" {
		return couldNot(in, w)
	}
	return &Error{Input: in, msg: e.msg, kind: e.kind}
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

// parseSpan reads the whole of s as a duration.
func parseSpan(s string) (span, *spanError) {
	generic := &spanError{}
	var sp span
	var total int64 // minutes
	lastRank := int64(5)
	count := 0
	pendingAnd := false
	i := 0
	for {
		i = skipSpaces(s, i)
		if i == len(s) {
			break
		}
		var num int64
		c := s[i]
		switch {
		case c == '-' || c == '+':
			if c == '-' && i == 0 {
				if _, e := parseSpan(s[1:]); e == nil {
					return span{}, &spanError{msg: fmt.Sprintf("%s goes backwards; a duration must be positive, e.g. %s.", quote(s), quote(strings.TrimSpace(s[1:]))), definite: true}
				}
			}
			return span{}, generic
		case isDigit(c):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j-i > maxDigits {
				return span{}, tooLong(s)
			}
			num, _ = strconv.ParseInt(s[i:j], 10, 64)
			if j+1 < len(s) && (s[j] == '.' || s[j] == ',') && isDigit(s[j+1]) {
				k := j + 1
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				if _, ok := units[word(s, k)]; ok {
					return span{}, &spanError{msg: fmt.Sprintf("I can't use fractions like %s; try whole units such as \"1h30m\" or \"36h\".", quote(s)), definite: true}
				}
				return span{}, generic
			}
			i = j
		case isLetter(c):
			w := word(s, i)
			if w == "and" && count > 0 && !pendingAnd {
				pendingAnd = true
				i += len(w)
				continue
			}
			n, ok := numberWords[w]
			if !ok {
				return span{}, generic
			}
			num = int64(n)
			i += len(w)
			if i < len(s) && !isSpace(s[i]) {
				return span{}, generic
			}
		default:
			return span{}, generic
		}
		pendingAnd = false
		i = skipSpaces(s, i)
		u := word(s, i)
		unit, ok := units[u]
		if !ok {
			switch refusedUnits[u] {
			case "seconds":
				return span{}, &spanError{msg: fmt.Sprintf("%s is too fine; the smallest unit is minutes, e.g. \"1m\" or \"90m\".", quote(s)), definite: true}
			case "months":
				return span{}, &spanError{msg: fmt.Sprintf("Months vary in length, so I can't use %s; try days (\"30d\") or a date such as \"2026-12-01\".", quote(s)), definite: true}
			case "years":
				return span{}, &spanError{msg: fmt.Sprintf("Years vary in length, so I can't use %s; try days (\"365d\") or a date such as \"2027-12-01\".", quote(s)), definite: true}
			}
			if u == "" && count == 0 && i == len(s) {
				return span{}, &spanError{msg: fmt.Sprintf("%s needs a unit, e.g. \"%dm\", \"%dh\" or \"%dd\".", quote(s), num, num, num)}
			}
			return span{}, generic
		}
		if unit.rank >= lastRank {
			return span{}, &spanError{msg: fmt.Sprintf("In %s, put each unit once, largest first, e.g. \"1d 12h\" or \"2h 30m\".", quote(s)), definite: true}
		}
		lastRank = unit.rank
		total += num * unit.minutes
		if unit.rank >= 3 {
			sp.days += num * unit.minutes / 1440
		} else {
			sp.minutes += num * unit.minutes
		}
		count++
		i += len(u)
	}
	if count == 0 || pendingAnd {
		return span{}, generic
	}
	if total == 0 {
		return span{}, &spanError{msg: fmt.Sprintf("%s is no time at all; give a length such as \"90m\" or \"2h\".", quote(s)), definite: true}
	}
	if total > int64(MaxDuration/time.Minute) { // compared in minutes: no overflow
		return span{}, tooLong(s)
	}
	return sp, nil
}

func tooLong(s string) *spanError {
	return &spanError{msg: fmt.Sprintf("%s is too long; the most I accept is 10 years (\"3650d\").", quote(s)), definite: true, kind: ErrTooFar}
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
