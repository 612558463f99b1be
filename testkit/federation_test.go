package testkit_test

import (
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"quorum/testkit"
)

// TestFederation checks StartFederation: a member of one server invites a
// member of the other into an encrypted room, who joins and reads a message.
func TestFederation(t *testing.T) {
	began := time.Now()
	hs := testkit.StartFederation(t, 2)
	t.Logf("two federating homeservers up in %s", time.Since(began).Round(10*time.Millisecond))
	if hs[0].ServerName == hs[1].ServerName || hs[0].FederationPort == 0 {
		t.Fatalf("server names %q and %q", hs[0].ServerName, hs[1].ServerName)
	}
	ana := testkit.NewClient(t, hs[0], "ana")
	ben := testkit.NewClient(t, hs[1], "ben")
	room := ana.CreateRoom(false, ben.UserID)
	ana.WaitJoined(room, ben.UserID, 30*time.Second)
	ana.Say(room, "hello across servers")
	ben.WaitFor(30*time.Second, "ana's message", func(e *event.Event) bool {
		return e.RoomID == room && e.Sender == ana.UserID && e.Content.AsMessage().Body == "hello across servers"
	})
	t.Logf("room shared and message read in %s", time.Since(began).Round(10*time.Millisecond))
}
