package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/testkit"
)

// TestDMKeptToTwo: a member's direct room with the bot stays theirs alone,
// on the real homeserver.
//   - A new direct room gives the member no power to invite (their invite
//     is refused), is marked direct on the invite, and shows newcomers
//     nothing from before they were invited.
//   - A room recorded as the member's direct room that someone else is in
//     already (an old direct room, in which the member could invite) is
//     left before anything is sent there: the member's secret ballot goes
//     to a new direct room, after a word on why.
//   - Someone invited into the member's direct room later (the sync brings
//     the invite) makes the bot leave it at once and open a new one, where
//     the member votes, gets the receipt and the next ballot; the newcomer
//     gets nothing from the bot, in that room or any other.
//   - A direct room made the old way (the member can invite), with no one
//     else in it, is left for a new one at the next message, with a note.
func TestDMKeptToTwo(t *testing.T) {
	t.Parallel()
	s, b, r, ana, ben := anaAndBen(t)
	eve := testkit.NewClient(t, s, "eve")
	botID := b.Client().UserID
	ctx := context.Background()

	// An old direct room: ana has the power to invite, and eve is in it.
	old := ana.CreateRoom(false, botID, eve.UserID)
	ana.WaitJoined(old, botID, wait)
	ana.WaitJoined(old, eve.UserID, wait)
	if err := b.SetDM(ana.UserID, old); err != nil {
		t.Fatal(err)
	}

	ana.Say(r, "!motion --secret --closes 1h Strike on Friday")
	ballot := ana.WaitFor(wait, "ana's ballot", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #1")
	})
	dm := ballot.RoomID
	if dm == old {
		t.Fatal("the ballot went to the room eve is in")
	}
	explained := ana.WaitFor(wait, "the explanation", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, dm, botID, "I left our previous private chat")
	})
	if explained.Timestamp > ballot.Timestamp {
		t.Error("the explanation came after the ballot")
	}
	waitLeft(ana, old, botID)
	code, _ := ballot.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)

	// The new direct room: ana cannot invite, the invite was marked
	// direct, history is shown from the invite on.
	pl := ana.PowerLevels(dm)
	if pl.GetUserLevel(ana.UserID) >= pl.Invite() || pl.GetUserLevel(botID) != 100 {
		t.Errorf("power levels in the new direct room: ana %d, bot %d, invite %d", pl.GetUserLevel(ana.UserID), pl.GetUserLevel(botID), pl.Invite())
	}
	if pl.GetUserLevel(ana.UserID) < pl.GetEventLevel(event.EventMessage) || pl.GetUserLevel(ana.UserID) < pl.GetEventLevel(event.EventReaction) {
		t.Error("ana cannot send messages or reactions in her direct room")
	}
	if _, err := ana.InviteUser(ctx, dm, &mautrix.ReqInviteUser{UserID: eve.UserID}); err == nil {
		t.Error("ana could invite eve into her direct room")
	}
	var vis event.HistoryVisibilityEventContent
	if err := ana.StateEvent(ctx, dm, event.StateHistoryVisibility, "", &vis); err != nil || vis.HistoryVisibility != event.HistoryVisibilityInvited {
		t.Errorf("history visibility %q (%v), want invited", vis.HistoryVisibility, err)
	}
	ana.WaitFor(wait, "ana's invite marked direct", func(evt *event.Event) bool {
		return evt.RoomID == dm && evt.Type == event.StateMember && evt.GetStateKey() == ana.UserID.String() &&
			evt.Content.AsMember().Membership == event.MembershipInvite && evt.Content.AsMember().IsDirect
	})

	// Eve gets into ana's direct room after all (here through another
	// room recorded as ana's, where ana has the power; a homeserver admin
	// needs none): the bot leaves at once and opens a new one.
	second := ana.CreateRoom(false, botID)
	ana.WaitJoined(second, botID, wait)
	if err := b.SetDM(ana.UserID, second); err != nil {
		t.Fatal(err)
	}
	ana.Invite(second, eve.UserID)
	waitLeft(ana, second, botID)
	again := ana.WaitFor(wait, "the explanation again", func(evt *event.Event) bool {
		return evt.RoomID != dm && testkit.IsNotice(evt, evt.RoomID, botID, "I left our previous private chat")
	})
	fresh := again.RoomID
	if fresh == second || fresh == old {
		t.Fatal("the explanation went to a room eve is in")
	}
	if room, ok, err := b.DM(ana.UserID); err != nil || !ok || room != fresh {
		t.Errorf("ana's direct room is %s (%v %v), want the new one", room, ok, err)
	}
	// ana votes there and gets her receipt there.
	vote := ana.Say(fresh, "!vote "+code+" y")
	receipt := ana.WaitReply(fresh, vote, wait)
	if !strings.Contains(receipt.Content.AsMessage().Body, "receipt code is") {
		t.Fatalf("no receipt: %q", receipt.Content.AsMessage().Body)
	}
	// The next ballot comes there too.
	ana.Say(r, "!motion --secret --closes 1h Picket on Monday")
	next := ana.WaitFor(wait, "ana's second ballot", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #2")
	})
	if next.RoomID != fresh {
		t.Error("the second ballot went to another room than ana's new direct room")
	}
	// A direct room made the old way, with no one else in it but where
	// ana can invite, is moved from at the next message, with a word.
	third := ana.CreateRoom(false, botID)
	ana.WaitJoined(third, botID, wait)
	if err := b.SetDM(ana.UserID, third); err != nil {
		t.Fatal(err)
	}
	ben.Say(r, "!motion --secret --closes 1h Ballot on the dues")
	moved := ana.WaitFor(wait, "ana's third ballot", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #3")
	})
	if moved.RoomID == third || moved.RoomID == fresh {
		t.Error("the third ballot went to a room where ana can invite")
	}
	ana.WaitFor(wait, "the note on the move", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, moved.RoomID, botID, "I moved our private chat to this room")
	})
	waitLeft(ana, third, botID)
	// Let anything else go out, then look at what eve has.
	ana.Ask(r, "!help")
	time.Sleep(time.Second)
	for _, evt := range eve.Events() {
		if evt.Sender == botID && evt.Type != event.StateMember {
			t.Errorf("eve got %s from the bot in %s", evt.Type.Type, evt.RoomID)
		}
	}
	if n := b.GivenUp(); n != 0 {
		t.Errorf("%d queued messages given up", n)
	}
	for _, room := range []id.RoomID{dm, fresh, moved.RoomID} {
		if strings.Contains(b.Log.String(), room.String()) {
			t.Errorf("the log names a direct room")
		}
	}
}

// waitLeft waits until c sees user leave room.
func waitLeft(c *testkit.Client, room id.RoomID, user id.UserID) {
	c.WaitFor(wait, user.String()+" leaving "+room.String(), func(evt *event.Event) bool {
		return evt.RoomID == room && evt.Type == event.StateMember && evt.GetStateKey() == user.String() &&
			evt.Content.AsMember().Membership == event.MembershipLeave
	})
}
