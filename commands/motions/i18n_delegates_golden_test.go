package motions

import (
	"fmt"
	"strings"
	"testing"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

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
			Golden(t, "delegate-notice", lang, transcript([]Sent{notice}))

			result := votes(t, h, 1, "@ana:test yes", "@ben:test yes", "@chi:test no")
			Golden(t, "delegate-result", lang, transcript(result))

			h.Rooms.Power[Ben] = 50
			h.SendAndDrain(Ben, "!report negotiator : Management offered 2%.")
			h.Clock.Advance(2 * aDay)
			view := h.SendAndDrain(Chi, "!delegate 1")
			Golden(t, "delegate-view", lang, transcript(view))
		})
	}
}
