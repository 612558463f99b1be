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
	keys := choiceKeys([]string{"👍", "✋🏽"}, []string{"👎️"}, []string{"🤷"})
	for in, want := range map[string]Choice{"👍🏼": Yes, "✋": Yes, "👎": No, "🤷‍♂️": Abstain} {
		if got := keys[NormalizeKey(in)]; got != want {
			t.Errorf("%q counts as %q, want %q", in, got, want)
		}
	}
	if _, ok := keys[NormalizeKey("🎉")]; ok {
		t.Error("an unknown emoji counts as a vote")
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
