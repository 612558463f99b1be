package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"
	"maunium.net/go/mautrix/id"
)

// TestCommandDescriptionsEndToEnd: once it has the power, the bot
// publishes its commands as MSC4391 state in the room; a command sent in
// structured form, addressed to the bot, is answered like the text one.
func TestCommandDescriptionsEndToEnd(t *testing.T) {
	t.Parallel()
	_, b, r, ana, _ := anaAndBen(t)
	botID := b.Client().UserID
	// A room of two may be a direct room the bot has not recorded as one
	// yet: it gets no descriptions, even where the bot has the power.
	two := ana.CreateRoom(false, botID)
	ana.WaitJoined(two, botID, wait)
	ana.SetPowerLevel(two, botID, 100)
	ana.SetPowerLevel(r, botID, 100)
	key := (&cmdschema.EventContent{Command: "motion"}).StateKey(botID)
	var got cmdschema.EventContent
	deadline := time.Now().Add(2 * wait)
	for {
		err := ana.StateEvent(context.Background(), r, event.StateMSC4391BotCommand, key, &got)
		if err == nil && got.Command == "motion" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no description of !motion after %s: %v", 2*wait, err)
		}
		time.Sleep(time.Second)
	}
	if got.Description == nil || !strings.Contains(got.Description.Text[0].Body, "propose a motion") || got.TailParam != "args" {
		t.Errorf("!motion's description = %+v", got)
	}
	cmd := ana.SendContent(r, event.EventMessage, &event.MessageEventContent{
		MsgType:           event.MsgText,
		Body:              "list the open motions, please",
		Mentions:          &event.Mentions{UserIDs: []id.UserID{botID}},
		MSC4391BotCommand: &event.MSC4391BotCommandInput{Command: "motions"},
	})
	if body := ana.WaitReply(r, cmd, wait).Content.AsMessage().Body; !strings.Contains(body, "No open motions") {
		t.Errorf("reply to the structured !motions: %q", body)
	}
	// Both rooms were in the pass that described r, which goes through its
	// rooms one after the other: give it the time r took.
	time.Sleep(3 * time.Second)
	if err := ana.StateEvent(context.Background(), two, event.StateMSC4391BotCommand, key, &got); err == nil {
		t.Errorf("a room of two was described: %+v", got)
	}
}
