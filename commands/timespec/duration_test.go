package timespec

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDuration(t *testing.T) {
	const day = 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"90m", 90 * time.Minute},
		{"48h", 48 * time.Hour},
		{"3d", 3 * day},
		{"2w", 14 * day},
		{"1d12h", 36 * time.Hour},
		{"2h30m", 150 * time.Minute},
		{"2h 30m", 150 * time.Minute},
		{"90 minutes", 90 * time.Minute},
		{"2 weeks", 14 * day},
		{"1 day", day},
		{"1 day 4h", 28 * time.Hour},
		{"1 day and 12 hours", 36 * time.Hour},
		{"a day", day},
		{"an hour", time.Hour},
		{"two hours", 2 * time.Hour},
		{"twelve weeks", 84 * day},
		{"90d", 90 * day},
		{"  3D  ", 3 * day},
		{"1W2D3H4M", 9*day + 3*time.Hour + 4*time.Minute},
		{"5 hrs", 5 * time.Hour},
		{"10 mins", 10 * time.Minute},
		{"1h0m", time.Hour},
		{"3653d", MaxDuration},
		{"1m", time.Minute},
		// The limits: MaxDuration in every unit, and 7 digits (the most).
		{"521w 6d", MaxDuration},
		{"87672h", MaxDuration},
		{"5260320m", MaxDuration},
		{"1000000m", 1000000 * time.Minute},
		{"0000090m", 90 * time.Minute},
		// Upper-case words: A and Z are letters too.
		{"A DAY", day},
		{"AN HOUR", time.Hour},
		{"TWO WEEKS", 14 * day},
		// The longest input: 100 bytes after trimming.
		{"1 day" + strings.Repeat(" ", maxInput-len("1 dayand 12 hours")) + "and 12 hours", 36 * time.Hour},
		{"  " + strings.Repeat(" ", maxInput) + "3d" + strings.Repeat(" ", maxInput), 3 * day},
	} {
		got, err := Duration(tc.in)
		if err != nil {
			t.Errorf("Duration(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Duration(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestDurationRejected(t *testing.T) {
	for _, tc := range []struct {
		in, msg string // msg: a part of the message
		kind    error
	}{
		{"", "Tell me a duration", nil},
		{"   ", "Tell me a duration", nil},
		{"-3h", "must be positive", nil},
		{"+3h", "couldn't read", nil},
		{"0m", "no time at all", nil},
		{"0d 0h", "no time at all", nil},
		{"3654d", "10 years", ErrTooFar},
		{"99999999d", "10 years", ErrTooFar},
		{"9999999w", "10 years", ErrTooFar},
		{"99999999999999999999h", "10 years", ErrTooFar},
		{"1.5h", "fractions", nil},
		{"1,5h", "fractions", nil},
		{"30s", "smallest unit is minutes", nil},
		{"3 months", "Months vary", nil},
		{"1mo", "Months vary", nil},
		{"1y", "Years vary", nil},
		{"90", "needs a unit", nil},
		{"2h30", "couldn't read", nil},
		{"2h 3d", "largest first", nil},
		{"1h1h", "largest first", nil},
		{"3 bananas", "couldn't read", nil},
		{"3d junk", "couldn't read", nil},
		{"two2h", "couldn't read", nil},
		{"and 3d", "couldn't read", nil},
		{"3d and", "couldn't read", nil},
		{"3d and and 2h", "couldn't read", nil},
		{"friday", "couldn't read", nil},
		{"in 3 days", "couldn't read", nil},
		{"３d", "couldn't read", nil}, // fullwidth digit
		{"3 d\x00", "characters that aren't text", nil},
		{strings.Repeat("1d", 60), "too long to be a duration", nil},
		{"\xff3d", "characters that aren't text", nil},
		// One past the limits: a minute more than 10 years, 8 digits.
		{"5260321m", "10 years", ErrTooFar},
		{"87673h", "10 years", ErrTooFar},
		{"00000001m", "10 years", ErrTooFar},
		// Input ending inside a number or a word.
		{"1.", "couldn't read", nil},
		{"1,", "couldn't read", nil},
		{"1.5", "couldn't read", nil},
		{"2.h", "couldn't read", nil}, // not a fraction: no digit after the point
		{"two", "needs a unit", nil},
		{"an", "needs a unit", nil},
		{"two-hours", "couldn't read", nil},
		// A unit is a whole word: "secz" is not "sec" (nor "SECZ").
		{"30 secz", "couldn't read", nil},
		{"30 SECZ", "couldn't read", nil},
		{"3 monthz", "couldn't read", nil},
		// A control character anywhere, also first.
		{"\a3d", "characters that aren't text", nil},
		{"3\ad", "characters that aren't text", nil},
		// The longest input: 100 bytes after trimming (101 is refused).
		{"1 day" + strings.Repeat(" ", maxInput+1-len("1 dayand 12 hours")) + "and 12 hours", "too long to be a duration", nil},
	} {
		_, err := Duration(tc.in)
		if err == nil {
			t.Errorf("Duration(%q) succeeded", tc.in)
			continue
		}
		e := friendly(t, tc.in, err)
		if !strings.Contains(e.Error(), tc.msg) {
			t.Errorf("Duration(%q): message %q does not contain %q", tc.in, e.Error(), tc.msg)
		}
		if tc.kind != nil && !errors.Is(err, tc.kind) {
			t.Errorf("Duration(%q): %v is not %v", tc.in, err, tc.kind)
		}
	}
}

// TestQuoteLength: input of up to 40 characters (runes, not bytes) is
// echoed whole in a message, longer input is cut to 39 and an ellipsis.
func TestQuoteLength(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{strings.Repeat("x", 40), `"` + strings.Repeat("x", 40) + `"`},
		{strings.Repeat("x", 41), `"` + strings.Repeat("x", 39) + `…"`},
		{strings.Repeat("é", 40), `"` + strings.Repeat("é", 40) + `"`},
		{strings.Repeat("é", 41), `"` + strings.Repeat("é", 39) + `…"`},
	} {
		_, err := Duration(tc.in)
		if err == nil || !strings.Contains(err.Error(), "couldn't read "+tc.want+" as a duration") {
			t.Errorf("Duration(%d runes): %v; want it quoted as %s", len([]rune(tc.in)), err, tc.want)
		}
	}
}

func TestDurationErrorExample(t *testing.T) {
	_, err := Duration("3 bananas")
	want := `I couldn't read "3 bananas" as a duration. Try "90m", "48h", "3d" or "2w".`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestRemaining(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "less than a minute"},
		{0, "less than a minute"},
		{59 * time.Second, "less than a minute"},
		{time.Minute, "1m"},
		{45*time.Minute + 59*time.Second, "45m"},
		{time.Hour, "1h"},
		{2*time.Hour + 10*time.Minute, "2h 10m"},
		{23*time.Hour + 59*time.Minute, "23h 59m"},
		{24 * time.Hour, "1 day"},
		{28*time.Hour + 30*time.Minute, "1 day 4h"},
		{71 * time.Hour, "2 days 23h"},
		{72 * time.Hour, "3 days"},
		{90*24*time.Hour + 5*time.Hour, "90 days"},
	} {
		if got := Remaining(tc.d).String(); got != tc.want {
			t.Errorf("Remaining(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// Remaining's output reads back as a duration no longer than the original.
func TestRemainingReadsBack(t *testing.T) {
	for d := time.Minute; d < 30*24*time.Hour; d = d*3/2 + 7*time.Second {
		s := Remaining(d).String()
		got, err := Duration(s)
		if err != nil {
			t.Fatalf("Duration(Remaining(%v) = %q): %v", d, s, err)
		}
		if got > d || got <= 0 {
			t.Errorf("Duration(Remaining(%v) = %q) = %v", d, s, got)
		}
	}
}

func TestHuman(t *testing.T) {
	fri := time.Date(2026, 12, 4, 18, 0, 0, 0, berlin)
	for _, tc := range []struct {
		t    time.Time
		loc  *time.Location
		want string
	}{
		{fri, berlin, "Fri 4 Dec 18:00"},
		{fri, nil, "Fri 4 Dec 18:00"},
		{fri, newYork, "Fri 4 Dec 12:00"},
		{fri, time.UTC, "Fri 4 Dec 17:00"},
		{time.Date(2027, 1, 1, 9, 5, 0, 0, time.UTC), time.UTC, "Fri 1 Jan 09:05"},
	} {
		if got := Human(tc.t, tc.loc).String(); got != tc.want {
			t.Errorf("Human(%v, %v) = %q, want %q", tc.t, tc.loc, got, tc.want)
		}
	}
}
