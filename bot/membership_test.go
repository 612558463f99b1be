package bot_test

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
	"quorum/testkit"
)

// TestInviteAndKick: the bot invites and removes members as the rules
// queue it (a council's delegates). An invite of a member already in the
// room and the removal of someone not in it do nothing; without the power
// to remove a member, the bot says so in the room instead; with it, the
// member is removed with the reason given.
func TestInviteAndKick(t *testing.T) {
	t.Parallel()
	s, b, ana, r := room(t)
	botID := b.Client().UserID
	ben := testkit.NewClient(t, s, "ben")
	membership := func(m msg.Membership) store.Outgoing {
		return store.Outgoing{Room: r, Kind: commands.KindMembership, Payload: msg.Marshal(m)}
	}
	if err := b.Queue(membership(msg.Membership{User: ben.UserID, Reason: "Elected by the branch Riverside", IfRefused: "I could not invite ben"})); err != nil {
		t.Fatal(err)
	}
	invited := ana.WaitFor(wait, "ben's invite", func(evt *event.Event) bool {
		return evt.RoomID == r && evt.Type == event.StateMember && evt.GetStateKey() == ben.UserID.String() &&
			evt.Content.AsMember().Membership == event.MembershipInvite
	})
	if invited.Sender != botID || invited.Content.AsMember().Reason != "Elected by the branch Riverside" {
		t.Errorf("invite from %s, reason %q", invited.Sender, invited.Content.AsMember().Reason)
	}
	ana.WaitJoined(r, ben.UserID, wait)
	time.Sleep(time.Second) // the bot's sync sees ben in the room

	nobody := id.NewUserID("nobody", s.ServerName)
	if err := b.Queue(
		membership(msg.Membership{User: ben.UserID, Reason: "again", IfRefused: "I could not invite ben again"}),
		membership(msg.Membership{User: nobody, Kick: true, Reason: "gone", IfRefused: "I could not remove nobody"}),
		membership(msg.Membership{User: ben.UserID, Kick: true, Reason: "Recalled by the branch Riverside", IfRefused: "I could not remove ben"}),
	); err != nil {
		t.Fatal(err)
	}
	findNotice(ana, r, botID, "I could not remove ben")

	ana.SetPowerLevel(r, botID, 50)
	ana.WaitPowerLevel(r, ana.UserID, botID, 50, wait)
	if err := b.Queue(membership(msg.Membership{User: ben.UserID, Kick: true, Reason: "Recalled by the branch Riverside", IfRefused: "I could not remove ben"})); err != nil {
		t.Fatal(err)
	}
	kicked := ana.WaitFor(wait, "ben removed", func(evt *event.Event) bool {
		return evt.RoomID == r && evt.Type == event.StateMember && evt.GetStateKey() == ben.UserID.String() &&
			evt.Content.AsMember().Membership == event.MembershipLeave
	})
	if kicked.Sender != botID || kicked.Content.AsMember().Reason != "Recalled by the branch Riverside" {
		t.Errorf("ben removed by %s, reason %q", kicked.Sender, kicked.Content.AsMember().Reason)
	}
	for _, evt := range ana.Events() {
		if body := evt.Content.AsMessage().Body; evt.Sender == botID && evt.Type == event.EventMessage &&
			(strings.Contains(body, "again") || strings.Contains(body, "nobody")) {
			t.Errorf("said %q", evt.Content.AsMessage().Body)
		}
	}
	if n := b.GivenUp(); n != 0 {
		t.Errorf("%d entries given up, want none", n)
	}
}
