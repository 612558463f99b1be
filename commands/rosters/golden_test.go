package rosters

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "quorum/commands/commandstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it (-update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
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
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s changed:\n got %q\nwant %q", path, got, want)
	}
}

// TestSwapGolden: the swap request ben gets by direct message is in the
// room's language (he chose none of his own), as is the notice.
func TestSwapGolden(t *testing.T) {
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			h := rosterHarness(t, "Europe/Berlin")
			h.SetLang(lang)
			notice, dm := askSwap(t, h)
			golden(t, "swap-request."+lang+".txt", notice.Msg.Body+"\n\n"+dm.Msg.Body+"\n")
		})
	}
}

// TestDutyReminderGolden: a duty reminder, sent by the scheduler, is in the
// language of the roster's room for a member who chose none.
func TestDutyReminderGolden(t *testing.T) {
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			h := rosterHarness(t, "Europe/Berlin")
			h.SetLang(lang)
			newMinutes(t, h)
			h.Send(Ana, "!remind duty on")
			h.Drain()
			turn := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC)
			dm := Only(t, h.AdvanceTo(turn.Add(-24*time.Hour)))
			if dm.DMUser != Ana {
				t.Fatalf("not a DM to ana: %+v", dm)
			}
			golden(t, "duty-reminder."+lang+".txt", dm.Msg.Body+"\n")
		})
	}
}
