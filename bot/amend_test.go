package bot_test

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"

	"quorum/testkit"
)

// TestAmendmentsEndToEnd: votes by encrypted reactions on a motion; an
// amendment suspends it, carries, replaces its wording and clears the
// votes (each voter told by DM); the members vote again and it carries.
// A second amendment fails and the unchanged motion's vote resumes.
func TestAmendmentsEndToEnd(t *testing.T) {
	t.Parallel()
	_, b, r, cs := startAssembly(t, "ana", "ben", "chi")
	ana, ben, chi := cs[0], cs[1], cs[2]
	botID := b.Client().UserID

	ana.Say(r, "!motion --closes 2h Buy a kettle")
	main := findNotice(ana, r, botID, "Motion #1")
	ben.React(r, main.ID, "👍", true)
	chi.React(r, main.ID, "👎", true)
	ana.WaitFor(wait, "the tally", func(evt *event.Event) bool { return isEditOf(evt, main.ID, "Tally: 1 yes · 1 no") })

	ana.Say(r, "!amend 1 : Buy two kettles")
	findNotice(ana, r, botID, "Voting on motion #1 is suspended while amendment #2")
	amendment := findNotice(ana, r, botID, "Motion #2")
	if f, _ := amendment.Content.Raw["quorum.amendment"].(map[string]any); f["new_text"] != "Buy two kettles" {
		t.Errorf("quorum.amendment = %v", f)
	}
	if got := ana.Ask(r, "!vote 1 yes").Content.AsMessage().Body; !strings.Contains(got, "suspended") {
		t.Errorf("a vote on the suspended motion: %q", got)
	}
	for _, c := range cs {
		c.React(r, amendment.ID, "👍", true)
	}
	findNotice(ana, r, botID, "Motion #2: Carried 3–0")
	findNotice(ana, r, botID, "Motion #1 is amended")
	for _, c := range []*testkit.Client{ben, chi} {
		c.WaitFor(wait, "the cleared vote by DM", func(evt *event.Event) bool {
			return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "your vote on it was cleared")
		})
	}
	if got := ana.Ask(r, "!motion 1").Content.AsMessage().Body; !strings.Contains(got, "Buy two kettles") || !strings.Contains(got, "0 of 3 voted") {
		t.Errorf("the amended motion: %q", got)
	}
	for _, c := range cs {
		c.React(r, main.ID, "👍", true)
	}
	findNotice(ana, r, botID, "Motion #1: Carried 3–0")

	ana.Say(r, "!motion --closes 2h Buy a teapot")
	third := findNotice(ana, r, botID, "Motion #3")
	ben.React(r, third.ID, "👍", true)
	chi.Say(r, "!amend 3 : Buy a samovar")
	fourth := findNotice(ana, r, botID, "Motion #4")
	for _, c := range cs {
		c.React(r, fourth.ID, "👎", true)
	}
	findNotice(ana, r, botID, "Motion #4: Failed 0–3")
	findNotice(ana, r, botID, "voting on motion #3, unchanged, resumes")
	if got := ana.Ask(r, "!motion 3").Content.AsMessage().Body; !strings.Contains(got, "Buy a teapot") || !strings.Contains(got, "1 yes") {
		t.Errorf("motion #3 after the failed amendment: %q", got)
	}
}
