package commands

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalizeKey(t *testing.T) {
	for in, want := range map[string]string{
		"👍":       "👍",
		"👍🏽":      "👍",
		"👍🏿":      "👍",
		"👍\ufe0f": "👍",
		"👎\ufe0e": "👎",
		"🤷":       "🤷",
		"🤷‍♀️":    "🤷",
		"🤷🏻‍♂️":   "🤷",
		"❤️":      "❤",
		" 👍 ":     "👍",
		"yes":     "yes",
		"👨‍👩‍👧":   "👨‍👩‍👧",
		"\ufe0f":  "",
		// Either side of the skin-tone range, and the range's ends.
		"\U0001F3FA": "\U0001F3FA",
		"\U0001F3FB": "",
		"\U0001F3FF": "",
		"\U0001F400": "\U0001F400",
		"\ufe0d":     "\ufe0d",
		"\ufe10":     "\ufe10",
		// Gender signs are removed only after a ZWJ, at the end, again
		// and again, with spaces between.
		"🤷\u200d\u2640\u200d\u2642":   "🤷",
		"🤷\u200d\u2640 \u200d\u2642 ": "🤷",
		"\u2640":                      "\u2640",
		"🤷\u2640":                     "🤷\u2640",
		"\u200d\u2640🤷":               "\u200d\u2640🤷",
		"":                            "",
	} {
		if got := NormalizeKey(in); got != want {
			t.Errorf("NormalizeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalizeKey(f *testing.F) {
	for _, s := range []string{
		"👍🏽", "🤷‍♀️", "\xff", "a\u200d\u2640", "", " ", "\ufe0f", "\U0001F3FB", "\U0001F3FA", "\U0001F400",
		"🤷\u200d\u2640\u200d\u2642", "🤷\u200d\u2640 \u200d\u2642 ", "\u200d\u2640", "\u200d", "👨‍👩‍👧", "\xf0\x9f\x91",
		" \u200d\u2640 ", "👍\ufe0e\ufe0f🏿",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := NormalizeKey(s)
		if NormalizeKey(out) != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, NormalizeKey(out))
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("made invalid UTF-8 from %q", s)
		}
		// No presentation selector or skin tone is left, nor a gender sign
		// after a ZWJ at the end, nor white space around it.
		if strings.ContainsAny(out, "\ufe0e\ufe0f\U0001F3FB\U0001F3FC\U0001F3FD\U0001F3FE\U0001F3FF") ||
			strings.HasSuffix(out, "\u200d\u2640") || strings.HasSuffix(out, "\u200d\u2642") || out != strings.TrimSpace(out) {
			t.Fatalf("%q normalised to %q", s, out)
		}
		if utf8.ValidString(s) && len(out) > len(s) {
			t.Fatalf("%q grew to %q", s, out)
		}
	})
}
