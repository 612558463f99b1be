package bot_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/testkit"
)

// TestLateKeyAcrossStop: a command whose room key reaches the bot only
// after the bot stopped (it was waiting for the key when it stopped) is
// answered once the bot is back, and only once; the bot does not say it
// could not decrypt it.
func TestLateKeyAcrossStop(t *testing.T) {
	t.Parallel()
	_, b, ana, r := room(t)
	ana.Ask(r, "!help") // ana and the bot know each other's devices
	botUser, botDevice := b.Client().UserID, b.Client().DeviceID

	cmd, sendKey := ana.SayKeyLater(r, "!help motion")
	waitNoted(t, b, cmd)
	b.Stop()
	sendKey(botUser, botDevice)
	b.Start()

	reply := ana.WaitReply(r, cmd, wait)
	if body := reply.Content.AsMessage().Body; !strings.Contains(body, "!motion") {
		t.Errorf("reply to the late command = %q, want the help on !motion", body)
	}
	// Once more after another restart: the event is not handled twice, and
	// a later command's reply shows the bot got past it.
	b.Stop()
	b.Start()
	ana.Ask(r, "!help")
	if replies := len(ana.Replies(r, cmd)); replies != 1 {
		t.Errorf("%d replies to the late command, want 1", replies)
	}
	if n := len(ana.Notices(r, botUser, "couldn't decrypt")); n != 0 {
		t.Errorf("the bot said %d times it could not decrypt a message", n)
	}
}

// TestLateKeyWhileRunning: a key that comes while the bot waits for it
// (the usual case) gets the command answered, once, without a restart.
func TestLateKeyWhileRunning(t *testing.T) {
	t.Parallel()
	_, b, ana, r := room(t)
	ana.Ask(r, "!help")
	cmd, sendKey := ana.SayKeyLater(r, "!help vote")
	waitNoted(t, b, cmd)
	sendKey(b.Client().UserID, b.Client().DeviceID)
	if body := ana.WaitReply(r, cmd, wait).Content.AsMessage().Body; !strings.Contains(body, "!vote") {
		t.Errorf("reply to the late command = %q, want the help on !vote", body)
	}
}

// TestLateKeyRedactedWhileDown: a message that awaited its key and was
// deleted while the bot was down is dropped quietly on start: no reply, and
// no "couldn't decrypt" about a message nobody can see any more.
func TestLateKeyRedactedWhileDown(t *testing.T) {
	t.Parallel()
	_, b, ana, r := room(t)
	ana.Ask(r, "!help")
	botUser, botDevice := b.Client().UserID, b.Client().DeviceID
	cmd, sendKey := ana.SayKeyLater(r, "!help motion")
	waitNoted(t, b, cmd)
	b.Stop()
	ana.Redact(r, cmd)
	sendKey(botUser, botDevice)
	b.Start()
	ana.Ask(r, "!help") // answered after the start's look at the noted message
	for _, evt := range ana.Replies(r, cmd) {
		t.Errorf("the bot answered the deleted message: %q", evt.Content.AsMessage().Body)
	}
}

// waitNoted waits until the bot's log says it waits for evt's key.
func waitNoted(t *testing.T, b *testkit.Bot, evt id.EventID) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !strings.Contains(b.Log.String(), evt.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("the bot never noted that it waits for the key of %s", evt)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLateKeyAfterGivingUp: a key that comes after the crypto helper gave
// up on the command (it waits about 25 s; under load keys have come later)
// still gets the command answered, once. The bot has said meanwhile that it
// could not decrypt it.
func TestLateKeyAfterGivingUp(t *testing.T) {
	t.Parallel()
	_, b, ana, r := room(t)
	ana.Ask(r, "!help")
	cmd, sendKey := ana.SayKeyLater(r, "!help vote")
	notice := ana.WaitReply(r, cmd, 2*wait) // the helper's wait, then the notice
	if body := notice.Content.AsMessage().Body; !strings.Contains(body, "couldn't decrypt") {
		t.Fatalf("first reply to the command without its key = %q, want the notice", body)
	}
	sendKey(b.Client().UserID, b.Client().DeviceID)
	isHelp := func(evt *event.Event) bool {
		return testkit.IsReply(evt, r, cmd) && strings.Contains(evt.Content.AsMessage().Body, "!vote")
	}
	ana.WaitFor(wait, "the help on !vote", isHelp)
	ana.Ask(r, "!help") // a later command's reply: the bot got past the late one
	if n := len(slices.DeleteFunc(ana.Replies(r, cmd), func(evt *event.Event) bool { return !isHelp(evt) })); n != 1 {
		t.Errorf("%d answers to the late command, want 1", n)
	}
}
