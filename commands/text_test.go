package commands

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"
)

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want string
	}{{0, "0 votes"}, {1, "1 vote"}, {2, "2 votes"}, {-1, "-1 votes"}} {
		if got := Plural(tc.n, "vote", "votes"); got != tc.want {
			t.Errorf("Plural(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]int{"3": 3, "#3": 3, " #12 ": 12, "1": 1} {
		if got, ok := ParseNumber(in); !ok || got != want {
			t.Errorf("ParseNumber(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "0", "#0", "-1", "#-2", "x", "##3", "3.5"} {
		if got, ok := ParseNumber(bad); ok {
			t.Errorf("ParseNumber(%q) = %d, accepted", bad, got)
		}
	}
}

func TestShorten(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 5, "short"},
		{"longer", 5, "long…"},
		{"two\nlines  and   spaces", 40, "two lines and spaces"},
		{"ünïcödé", 4, "ünï…"},
		{"abcdef", 6, "abcdef"},
	} {
		if got := Shorten(tc.in, tc.n); got != tc.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestJoinAnd(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""}, {[]string{"a"}, "a"}, {[]string{"a", "b"}, "a and b"}, {[]string{"a", "b", "c"}, "a, b and c"},
		{[]string{"a", "b", "c", "d"}, "a, b, c and d"},
	} {
		if got := JoinAnd(tc.in).String(); got != tc.want {
			t.Errorf("JoinAnd(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := UserList([]id.UserID{"@ana:x", "@ben:x"}).String(); got != "@ana:x and @ben:x" {
		t.Errorf("UserList = %q", got)
	}
	for lang, want := range map[string]string{"es": "a, b y c", "de": "a, b und c"} {
		if got := JoinAnd([]string{"a", "b", "c"}).In(lang); got != want {
			t.Errorf("JoinAnd in %s = %q, want %q", lang, got, want)
		}
	}
}

func TestRoomLink(t *testing.T) {
	l := RoomLink("!abc:example.org")
	if l.Body != "!abc:example.org" || l.HTML != `<a href="https://matrix.to/#/%21abc:example.org">!abc:example.org</a>` {
		t.Errorf("RoomLink = %+v", l)
	}
}

func TestWordIndex(t *testing.T) {
	words := strings.Fields("every week FROM monday from x")
	for w, want := range map[string]int{"every": 0, "from": 2, "From": 2, "x": 5, "for": 6} {
		if got := WordIndex(words, w); got != want {
			t.Errorf("WordIndex(%q) = %d, want %d", w, got, want)
		}
	}
}

func TestSplitColon(t *testing.T) {
	for _, tc := range []struct {
		in, head, tail string
		ok             bool
	}{
		{"friday 18:00 : call", "friday 18:00", "call", true},
		{"friday 18:00: call", "friday 18:00", "call", true},
		{"friday 18:00 :call", "friday 18:00", "call", true},
		{"@ana:example.org : text: more", "@ana:example.org", "text: more", true},
		{":text", "", "text", true},
		{"text:", "text", "", true},
		{":", "", "", true},
		{"18:00", "18:00", "", false},
		{"@ana:x.org", "@ana:x.org", "", false},
		{"a:b:c", "a:b:c", "", false},
		{"a\t:\tb", "a", "b", true},
		{"a\n:b", "a", "b", true},
		{"", "", "", false},
	} {
		head, tail, ok := SplitColon(tc.in)
		if head != tc.head || tail != tc.tail || ok != tc.ok {
			t.Errorf("SplitColon(%q) = %q, %q, %v; want %q, %q, %v", tc.in, head, tail, ok, tc.head, tc.tail, tc.ok)
		}
	}
}

func FuzzSplitColon(f *testing.F) {
	for _, s := range []string{"friday 18:00 : call", ":", "", "18:00", "a:", ":a", "@a:b : c", "a : b : c", "\t:\n", "é:ü :"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		head, tail, ok := SplitColon(s)
		if !ok {
			if head != s || tail != "" {
				t.Fatalf("no separator in %q, but %q / %q", s, head, tail)
			}
			return
		}
		// The separator is a colon with white space (or an end) beside it,
		// the parts are trimmed, and nothing is lost but that colon and
		// white space.
		if head != strings.TrimSpace(head) || tail != strings.TrimSpace(tail) {
			t.Fatalf("untrimmed parts of %q: %q / %q", s, head, tail)
		}
		if !strings.Contains(s, head) || !strings.Contains(s, tail) {
			t.Fatalf("parts not from %q: %q / %q", s, head, tail)
		}
		if len(head)+len(tail)+1 > len(s) {
			t.Fatalf("parts of %q longer than it: %q / %q", s, head, tail)
		}
	})
}

func TestIsMention(t *testing.T) {
	if !IsMention("@ana") || !IsMention("@ana:x.org") || IsMention("ana") || IsMention("") || IsMention("a@b") {
		t.Error("IsMention is wrong")
	}
}

func TestLatestEarliest(t *testing.T) {
	early, late := time.Unix(100, 0), time.Unix(200, 0)
	for _, tc := range []struct{ a, b, latest, earliest time.Time }{
		{early, late, late, early}, {late, early, late, early}, {early, early, early, early},
	} {
		if got := Latest(tc.a, tc.b); !got.Equal(tc.latest) {
			t.Errorf("Latest(%v, %v) = %v", tc.a, tc.b, got)
		}
		if got := Earliest(tc.a, tc.b); !got.Equal(tc.earliest) {
			t.Errorf("Earliest(%v, %v) = %v", tc.a, tc.b, got)
		}
	}
}

func TestPortions(t *testing.T) {
	size := func(s string) int { return len(s) }
	for _, c := range []struct {
		items  []string
		budget int
		want   string
	}{
		{nil, 10, "[]"},
		{[]string{"abc"}, 10, "[[abc]]"},
		{[]string{"abc", "defg", "hij"}, 10, "[[abc defg hij]]"},           // exactly the budget
		{[]string{"abc", "defg", "hijk"}, 10, "[[abc defg] [hijk]]"},       // one byte over
		{[]string{"abcdefghijkl", "a", "b"}, 10, "[[abcdefghijkl] [a b]]"}, // an item over the budget goes alone
		{[]string{"ab", "abcdefghijkl"}, 10, "[[ab] [abcdefghijkl]]"},
	} {
		if got := fmt.Sprint(Portions(c.items, size, c.budget)); got != c.want {
			t.Errorf("Portions(%q, %d) = %s, want %s", c.items, c.budget, got, c.want)
		}
	}
}
