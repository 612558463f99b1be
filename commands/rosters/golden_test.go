package rosters

import (
	"testing"
	"time"

	. "quorum/commands/commandstest"
)

// TestSwapGolden: the swap request ben gets by direct message is in the
// room's language (he chose none of his own), as is the notice.
func TestSwapGolden(t *testing.T) {
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			h := rosterHarness(t, "Europe/Berlin")
			h.SetLang(lang)
			notice, dm := askSwap(t, h)
			Golden(t, "swap-request", lang, notice.Msg.Body+"\n\n"+dm.Msg.Body+"\n")
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
			Golden(t, "duty-reminder", lang, dm.Msg.Body+"\n")
		})
	}
}
