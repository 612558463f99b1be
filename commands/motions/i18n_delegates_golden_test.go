package motions

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

// -update rewrites the golden files from what the code says now. Other
// golden tests of the package may register the same flag: whoever comes
// first does, and all read it by name.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite testdata/golden from the current output")
	}
}

// updating says whether the test run was asked to rewrite golden files.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// golden compares got with testdata/golden/name, or rewrites it (-update).
// Translations are read by people: review the diff of every update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the output (run with -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// transcript is the messages of out as members read them: where each went
// (the room or a member's direct chat) and its text.
func transcript(out []Sent) string {
	var b strings.Builder
	for _, s := range out {
		if s.Kind != commands.KindMessage {
			continue
		}
		where := "room"
		if s.DMUser != "" {
			where = "DM " + s.DMUser.String()
		}
		if s.Msg.Edit != nil {
			where += ", edit"
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", where, s.Msg.Body)
	}
	return b.String()
}

// TestDelegateGolden: a delegate's election notice, its result and the
// mandate's view (`!delegate 1`), as a room in each language reads them.
func TestDelegateGolden(t *testing.T) {
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			h := delegateHarness(t)
			h.SetLang(lang)
			notice := propose(t, h, Ana, "!delegate @ben:test negotiator --term 30d : Negotiate the rota.\nNo pay cuts.")
			golden(t, "delegate-notice."+lang+".txt", transcript([]Sent{notice}))

			result := votes(t, h, 1, "@ana:test yes", "@ben:test yes", "@chi:test no")
			golden(t, "delegate-result."+lang+".txt", transcript(result))

			h.Rooms.Power[Ben] = 50
			h.SendAndDrain(Ben, "!report negotiator : Management offered 2%.")
			h.Clock.Advance(2 * aDay)
			view := h.SendAndDrain(Chi, "!delegate 1")
			golden(t, "delegate-view."+lang+".txt", transcript(view))
		})
	}
}
