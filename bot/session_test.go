package bot_test

import (
	"context"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bot"
	"quorum/testkit"
)

// sessionOf reads the megolm session an event was encrypted with, as the
// homeserver holds it.
func sessionOf(t *testing.T, c *testkit.Client, room id.RoomID, evt id.EventID) id.SessionID {
	t.Helper()
	fetched := raw(t, c, room, evt)
	enc, ok := fetched.Content.Parsed.(*event.EncryptedEventContent)
	if fetched.Type != event.EventEncrypted || !ok {
		t.Fatalf("%s is not encrypted: %s", evt, fetched.Type.Type)
	}
	return enc.SessionID
}

// raw fetches an event as the homeserver holds it (encrypted).
func raw(t *testing.T, c *testkit.Client, room id.RoomID, evt id.EventID) *event.Event {
	t.Helper()
	fetched, err := c.GetEvent(context.Background(), room, evt)
	if err != nil {
		t.Fatalf("fetch %s: %v", evt, err)
	}
	bot.ParseFetched(room, fetched)
	return fetched
}

// TestDirectRoomKeepsItsSession: a member's ballot and their receipt, both
// in the direct room the bot made for them, are encrypted in one megolm
// session. The member's invite and the bot's own join, which the bot's
// sync brings only after the ballot was sent (without a previous
// membership), change nothing about who holds the ballot's key; were the
// session thrown away then, each receipt would need a new room key, sent
// to the member's device just before it (in a ballot of 100 those keys came
// too late and devices gave the receipts up). The member who opens the
// direct room only after the ballot (an invite, then a join) keeps it too.
//
// Rotation where it matters stays: in the assembly, a member who leaves
// ends the bot's session (its next message there uses a new one), and a
// newcomer gets a session whose key they have.
func TestDirectRoomKeepsItsSession(t *testing.T) {
	t.Parallel()
	s, b, r, cs := startAssembly(t, "ana", "ben", "chi")
	botID := b.Client().UserID
	cs[2].HoldInvites.Store(true) // chi opens the direct room only to vote
	before := sessionOf(t, cs[0], r, cs[0].Ask(r, "!help").ID)
	cs[0].Say(r, "!motion --secret --closes 1h Strike on Friday")

	for i, c := range cs {
		if c.HoldInvites.Load() {
			c.Join(c.Invited(botID, r, wait))
		}
		ballot := c.WaitFor(wait, "a ballot", func(evt *event.Event) bool {
			return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #1")
		})
		code, _ := ballot.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)
		vote := c.Say(ballot.RoomID, "!vote "+code+" "+[]string{"y", "n", "a"}[i])
		receipt := c.WaitReply(ballot.RoomID, vote, wait)
		if !strings.Contains(receipt.Content.AsMessage().Body, "receipt code is") {
			t.Fatalf("%s: no receipt: %q", c.UserID, receipt.Content.AsMessage().Body)
		}
		if got, want := sessionOf(t, c, ballot.RoomID, receipt.ID), sessionOf(t, c, ballot.RoomID, ballot.ID); got != want {
			t.Errorf("%s: the receipt's megolm session %s is not the ballot's %s", c.UserID, got, want)
		}
	}

	// The assembly: same session until someone leaves.
	if again := sessionOf(t, cs[0], r, cs[0].Ask(r, "!help").ID); again != before {
		t.Errorf("the assembly's session changed (%s, then %s) with nobody leaving or coming", before, again)
	}
	if _, err := cs[2].LeaveRoom(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	afterLeave := sessionOf(t, cs[0], r, cs[0].Ask(r, "!help").ID)
	if afterLeave == before {
		t.Errorf("the bot's megolm session %s outlived a member's leave", before)
	}
	dan := testkit.NewClient(t, s, "dan")
	cs[0].Invite(r, dan.UserID)
	cs[0].WaitJoined(r, dan.UserID, wait)
	// The bot answers ana after it saw dan join (dan's join comes first in
	// its sync); dan reads the answer, so the key went to dan.
	ask := cs[0].Say(r, "!help")
	if reply := dan.WaitReply(r, ask, wait); reply.Content.AsMessage() == nil || reply.Content.AsMessage().Body == "" {
		t.Error("dan could not read the bot's answer")
	}
}
