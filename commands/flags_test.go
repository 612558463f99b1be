package commands

import (
	"strings"
	"testing"
)

func TestOption(t *testing.T) {
	for _, tc := range []struct {
		word, name, value string
		ok                bool
	}{
		{"--secret", "secret", "", true},
		{"—secret", "secret", "", true},  // em dash, as phones make of --
		{"–secret", "secret", "", true},  // en dash
		{"—-Secret", "secret", "", true}, // em dash and a hyphen
		{"--closes=48h", "closes", "48h", true},
		{"-secret", "", "", false}, // one hyphen: a near-miss, not an option
		{"—", "", "", false},
		{"--", "", "", false},
		{"--5", "", "", false},
		{"secret", "", "", false},
		{"", "", "", false},
	} {
		name, value, _, ok := Option(tc.word)
		if name != tc.name || value != tc.value || ok != tc.ok {
			t.Errorf("Option(%q) = %q, %q, %v; want %q, %q, %v", tc.word, name, value, ok, tc.name, tc.value, tc.ok)
		}
	}
}

func TestNearMiss(t *testing.T) {
	for _, tc := range []struct {
		word string
		want bool
	}{
		{"-secret", true},
		{"--secert", true},
		{"--secrets", true},
		{"—secret.", true},
		{"--Secret", false}, // the flag itself, in any case
		{"—secret", false},  // the flag as phones type it
		{"secret", false},   // a word of the text
		{"--closes", false},
		{"-", false},
		{"--sect", true},
		{"--s", false},
	} {
		if got := NearMiss(tc.word, "secret"); got != tc.want {
			t.Errorf("NearMiss(%q, secret) = %v, want %v", tc.word, got, tc.want)
		}
	}
	if !NearMiss("-private-location", "private-location") || !NearMiss("--private_location", "private-location") {
		t.Error("near-misses of --private-location not seen")
	}
}

func TestControlChar(t *testing.T) {
	for _, r := range []rune{0, 0x1b, 0x7f, 0x85, 0x9f, 0x202e, 0x202a, 0x2066, 0x2069} {
		if !controlChar(r) {
			t.Errorf("%U is not refused", r)
		}
	}
	for _, r := range []rune{'\t', '\n', '\r', ' ', 'a', 'é', '—', 0x200d, 0x200e, 0xa0, '👍'} {
		if controlChar(r) {
			t.Errorf("%U is refused", r)
		}
	}
	// Unsafe finds one anywhere, the first character too.
	for s, want := range map[string]bool{"\x1bvote": true, "vo\x1bte": true, "vote\u202e": true, "vo\xffte": true, "vote\tyes": false, "": false} {
		if Unsafe(s) != want {
			t.Errorf("Unsafe(%q) = %v", s, !want)
		}
	}
}

func FuzzOption(f *testing.F) {
	for _, s := range []string{"--secret", "—secret", "–-x=1", "-", "—", "--=", "--é", "\x00", strings.Repeat("-", 100) + "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, word string) {
		name, _, _, ok := Option(word)
		if ok && (name == "" || name != strings.ToLower(name)) {
			t.Fatalf("Option(%q): name %q", word, name)
		}
		if ok && NearMiss(word, name) {
			t.Fatalf("%q is both the option %q and a near-miss of it", word, name)
		}
	})
}
