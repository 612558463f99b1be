package timespec

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/olebedev/when/rules/en"

	"quorum/locale"
	"quorum/msg"
)

// MaxDuration caps durations, how far ahead a Moment may be, how far from
// today a Date may be and how far apart repeats may be: ten years (with
// leap days), so that typing mistakes such as "99999d" are caught.
const MaxDuration = 3653 * 24 * time.Hour

// DefaultHour is the hour of day used when a Moment names a day but no time
// ("friday", "tomorrow", "2026-12-01"): the start of a working day.
const DefaultHour = 9

// maxInput bounds the length of what is parsed, so that pasted text gets a
// short answer instead of being scanned.
const maxInput = 100

// ErrPast is wrapped by the *Error that Moment returns for a time that has
// already passed, so that callers can tell it apart with errors.Is.
var ErrPast = errors.New("timespec: time has passed")

// ErrTooFar is wrapped by the *Error returned for a time, date or duration
// more than MaxDuration away.
var ErrTooFar = errors.New("timespec: too far away")

// Error is a parse failure worded for the person who typed the input: one
// sentence with an example, ready to post in the room in its language
// (Text); Error() is the English.
type Error struct {
	// Input is the text as typed, trimmed of surrounding space.
	Input string
	text  msg.Text
	kind  error
}

// Error returns the friendly sentence in English.
func (e *Error) Error() string { return e.text.String() }

// Text returns the friendly sentence, rendered in the reader's language.
func (e *Error) Text() msg.Text { return e.text }

// Unwrap returns ErrPast, ErrTooFar or nil, for errors.Is.
func (e *Error) Unwrap() error { return e.kind }

// what names the kind of thing being read, for messages.
type what int

const (
	aTime what = iota
	aDuration
	aDate
	aRepeat
)

func (w what) noun() msg.Text {
	return [...]msg.Text{msg.T("a time"), msg.T("a duration"), msg.T("a date"), msg.T("a repeat")}[w]
}

// examples are typed input, so a translation may show its own day names
// ("viernes 18:00"): Moment reads them too.
func (w what) examples() msg.Text {
	return [...]msg.Text{
		msg.T(`"48h", "friday 18:00" or "2026-12-01 18:00"`),
		msg.T(`"90m", "48h", "3d" or "2w"`),
		msg.T(`"2026-12-01", "tomorrow" or "monday"`),
		msg.T(`"week", "2 weeks", "tuesday" or "month"`),
	}[w]
}

// quote shows typed text inside a message: quoted, escaped (so a newline
// cannot break the one-liner) and shortened.
func quote(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		r := []rune(s)
		s = string(r[:39]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// couldNot is the generic failure: "I couldn't read X as a time. Try ...".
func couldNot(in string, w what) *Error {
	if in == "" {
		return fail(in, msg.T("Tell me %s, e.g. %s.", w.noun(), w.examples()))
	}
	return fail(in, msg.T("I couldn't read %s as %s. Try %s.", quote(in), w.noun(), w.examples()))
}

// fail is a specific failure with its own wording.
func fail(in string, t msg.Text) *Error {
	return &Error{Input: in, text: t}
}

// extra reports trailing input after a complete phrase, suggesting the
// phrase alone.
func extra(in string, understood, rest string) *Error {
	understood = strings.TrimRight(understood, ", ")
	return fail(in, msg.T("I understood %s but not %s. Try just %s.", quote(understood), quote(rest), quote(understood)))
}

// checkInput trims and bounds the input shared by all parsers.
func checkInput(s string, w what) (string, *Error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return in, couldNot(in, w)
	}
	// Not echoed: it would make a long or garbled message.
	if len(in) > maxInput {
		return in, fail(in, msg.T("That is too long to be %s. Try %s.", w.noun(), w.examples()))
	}
	if !utf8.ValidString(in) || strings.IndexFunc(in, unprintable) >= 0 {
		return in, fail(in, msg.T("I couldn't read that as %s: it has characters that aren't text. Try %s.", w.noun(), w.examples()))
	}
	return in, nil
}

func unprintable(r rune) bool { return !unicode.IsPrint(r) && !unicode.IsSpace(r) }

// token is one word of input: lower-cased text and its byte range in the
// original input (for echoing what was understood).
type token struct {
	text       string
	start, end int
}

// tokenize splits on white space; a comma is a token of its own, and an ISO
// "2026-12-01T18:00" is split into its date and its time.
func tokenize(s string) []token {
	var toks []token
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		low := strings.ToLower(s[start:end])
		if m := isoDateTimeRE.FindStringSubmatch(low); m != nil {
			mid := start + len(m[1])
			toks = append(toks, token{m[1], start, mid}, token{m[2], mid + 1, end})
		} else if en, ok := locale.EnglishName(low); ok {
			// "viernes", "Freitag": read as the English name.
			toks = append(toks, token{strings.ToLower(en), start, end})
		} else {
			toks = append(toks, token{low, start, end})
		}
		start = -1
	}
	for i, r := range s {
		switch {
		case unicode.IsSpace(r):
			flush(i)
		case r == ',':
			flush(i)
			toks = append(toks, token{",", i, i + 1})
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
	return toks
}

// Vocabulary. The tables come from when's English rules (see the package
// comment), plus a few abbreviations they lack.
var (
	weekdayWords = map[string]time.Weekday{"tues": time.Tuesday, "weds": time.Wednesday, "thurs": time.Thursday}
	// weekdayPlurals are "mondays" ... "sundays", for repeats.
	weekdayPlurals = map[string]time.Weekday{}
	monthWords     = map[string]time.Month{}
	numberWords    = map[string]int{"a": 1, "an": 1}
)

func init() {
	for k, v := range en.WEEKDAY_OFFSET {
		weekdayWords[k] = time.Weekday(v)
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		weekdayPlurals[strings.ToLower(d.String())+"s"] = d
	}
	for k, v := range en.MONTH_OFFSET {
		monthWords[k] = time.Month(v)
	}
	for k, v := range en.INTEGER_WORDS {
		numberWords[k] = v
	}
}
