package elections

import (
	"slices"
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"

	. "quorum/commands/commandstest"
)

// FuzzParseRanking: whatever is typed, a ranking that is read names only
// candidates of the ballot, each at most once; and ballot numbers read as
// the candidates they number.
func FuzzParseRanking(f *testing.F) {
	for _, s := range []string{"3 1 2", "@ana:test @ben", "1, 2.", "@ana 1", "2 2", "0", "@zed:test", "#1", ""} {
		f.Add(s)
	}
	order := []id.UserID{Chi, Ana, Ben}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseRanking(order, strings.Fields(s))
		if err != nil {
			return
		}
		seen := map[id.UserID]bool{}
		for _, u := range got {
			if !slices.Contains(order, u) || seen[u] {
				t.Fatalf("%q read as %v", s, got)
			}
			seen[u] = true
		}
	})
}

func TestParseRankingNumbers(t *testing.T) {
	order := []id.UserID{Chi, Ana, Ben}
	got, err := parseRanking(order, strings.Fields("3 1, @ana"))
	if err != nil || !slices.Equal(got, []id.UserID{Ben, Chi, Ana}) {
		t.Fatalf("%v %v", got, err)
	}
}
