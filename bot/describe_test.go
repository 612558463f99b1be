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
	_, b, ana, r := room(t)
	botID := b.Client().UserID
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
}
