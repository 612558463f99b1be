package commands

import (
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
	} {
		if got := NormalizeKey(in); got != want {
			t.Errorf("NormalizeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalizeKey(f *testing.F) {
	for _, s := range []string{"👍🏽", "🤷‍♀️", "\xff", "a\u200d\u2640"} {
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
	})
}
