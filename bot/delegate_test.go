package bot_test

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"quorum/testkit"
)

// TestDelegatesEndToEnd: the assembly elects ben with a mandate; he gets it
// in an encrypted DM and power level 50; the bot restarts, and chi's short
// mandate that ended while it was down lapses once on start (the level an
// admin gave chi meanwhile is left alone); ben is recalled (his vote against
// counts once, he cannot close it), loses the power level and is told by DM.
func TestDelegatesEndToEnd(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	clock := &testkit.Clock{}
	b.Opts.Clock = clock
	b.Config.Delegates.PowerLevels = map[string]int{"negotiator": 50, "secretary": 50}
	b.Start()
	r, cs := assembly(t, s, b, "ana", "ben", "chi")
	ana, ben, chi := cs[0], cs[1], cs[2]
	botID := b.Client().UserID
	ana.SetPowerLevel(r, botID, 100) // the bot can give a level and take it back

	ana.Say(r, "!delegate @ben:"+s.ServerName+" negotiator --term 30d : Negotiate the rota. No pay cuts.")
	election := findNotice(ana, r, botID, "Motion #1")
	if f, _ := election.Content.Raw["quorum.motion"].(map[string]any); f["kind"] != "election" {
		t.Fatalf("election quorum.motion = %v", f)
	}
	chi.Say(r, "!delegate @chi:"+s.ServerName+" secretary --term 1d : Take the minutes")
	secretary := findNotice(ana, r, botID, "Motion #2")
	for _, c := range cs {
		c.React(r, election.ID, "👍", true)
		c.React(r, secretary.ID, "👍", true)
	}
	result := findNotice(ana, r, botID, "Motion #1: Carried 3–0")
	if f := delegationOf(result); f["status"] != "active" || f["role"] != "negotiator" || f["user_id"] != ben.UserID.String() ||
		f["mandate"] != "Negotiate the rota. No pay cuts." {
		t.Errorf("election result quorum.delegation = %v", f)
	}
	findNotice(ana, r, botID, "Motion #2: Carried 3–0")
	mandate := ben.WaitFor(wait, "the mandate by DM", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "You were elected negotiator")
	})
	if mandate.Mautrix.EventSource&event.SourceDecrypted == 0 || !strings.Contains(mandate.Content.AsMessage().Body, "Negotiate the rota. No pay cuts.") {
		t.Errorf("mandate DM (decrypted: %v): %q", mandate.Mautrix.EventSource&event.SourceDecrypted != 0, mandate.Content.AsMessage().Body)
	}
	ana.WaitPowerLevel(r, botID, ben.UserID, 50, wait)
	ana.WaitPowerLevel(r, botID, chi.UserID, 50, wait)
	ana.SetPowerLevel(r, chi.UserID, 75) // by hand: not the bot's to undo

	// The secretary's one-day term ends while the bot is down.
	b.Stop()
	clock.Advance(2 * 24 * time.Hour)
	b.Start()
	findNotice(ana, r, botID, "term as secretary (delegation #2) ended")
	// The room's messages go out in order: once this reply is here, the
	// lapse's power level change has been dealt with.
	if got := ana.Ask(r, "!delegates").Content.AsMessage().Body; !strings.Contains(got, "#1 negotiator: "+ben.UserID.String()) || strings.Contains(got, "secretary") {
		t.Errorf("!delegates after the restart: %q", got)
	}
	if got := ana.PowerLevels(r).GetUserLevel(chi.UserID); got != 75 {
		t.Errorf("chi's level after the lapse = %d, want the 75 an admin set", got)
	}

	chi.Say(r, "!recall @ben:"+s.ServerName+" negotiator : Agreed to Sunday shifts")
	recall := findNotice(ana, r, botID, "Motion #3")
	if got := ben.Ask(r, "!close 3").Content.AsMessage().Body; !strings.Contains(got, "You can't close the recall of your own mandate") {
		t.Errorf("ben (a moderator now) closing his recall: %q", got)
	}
	ben.React(r, recall.ID, "👎", true)
	ana.React(r, recall.ID, "👍", true)
	chi.React(r, recall.ID, "👍", true)
	result = findNotice(ana, r, botID, "Motion #3: Carried 2–1")
	if f := delegationOf(result); f["status"] != "recalled" || f["user_id"] != ben.UserID.String() {
		t.Errorf("recall result quorum.delegation = %v", f)
	}
	findNotice(ana, r, botID, "is no longer negotiator")
	ana.WaitPowerLevel(r, botID, ben.UserID, 0, wait)
	recalled := ben.WaitFor(wait, "the recall by DM", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "recalled you as negotiator")
	})
	if recalled.Mautrix.EventSource&event.SourceDecrypted == 0 || recalled.RoomID != mandate.RoomID {
		t.Errorf("recall DM not encrypted, or not in the same direct room")
	}

	// Restart again: nothing is said twice.
	b.Stop()
	b.Start()
	if got := ana.Ask(r, "!delegates").Content.AsMessage().Body; !strings.Contains(got, "No one holds a mandate now") {
		t.Errorf("!delegates at the end: %q", got)
	}
	for _, said := range []string{"term as secretary (delegation #2) ended", "is no longer negotiator", "is now negotiator"} {
		if n := len(ana.Notices(r, botID, said)); n != 1 {
			t.Errorf("%q said %d times, want once", said, n)
		}
	}
}

// delegationOf returns an event's quorum.delegation.
func delegationOf(evt *event.Event) map[string]any {
	f, _ := evt.Content.Raw["quorum.delegation"].(map[string]any)
	return f
}
