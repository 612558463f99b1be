package bot_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/bot"
	"quorum/sandbox"
	"quorum/store"
	"quorum/testkit"
)

const wait = 30 * time.Second

// room sets up an encrypted room with ana and the bot, the bot running.
func room(t *testing.T) (*sandbox.Server, *testkit.Bot, *testkit.Client, id.RoomID) {
	t.Helper()
	return roomWith(t, func(*testkit.Bot) {})
}

// roomWith is room with the bot changed by configure before it starts.
func roomWith(t *testing.T, configure func(*testkit.Bot)) (*sandbox.Server, *testkit.Bot, *testkit.Client, id.RoomID) {
	t.Helper()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	configure(b)
	b.Start()
	ana := testkit.NewClient(t, s, "ana")
	r := ana.CreateRoom(false, b.Client().UserID)
	ana.WaitJoined(r, b.Client().UserID, wait)
	return s, b, ana, r
}

// anaAndBen sets up an assembly room (motion_test.go) of ana and ben with
// the bot running.
func anaAndBen(t *testing.T) (*sandbox.Server, *testkit.Bot, id.RoomID, *testkit.Client, *testkit.Client) {
	t.Helper()
	s, b, r, cs := startAssembly(t, "ana", "ben")
	return s, b, r, cs[0], cs[1]
}

// TestEncryptedRoundTrip: a member invites the bot, it joins, and answers an
// encrypted !help with an encrypted notice the member decrypts.
func TestEncryptedRoundTrip(t *testing.T) {
	t.Parallel()
	_, b, ana, r := room(t)
	cmd := ana.Say(r, "!help")
	reply := ana.WaitReply(r, cmd, wait)
	if reply.Mautrix.EventSource&event.SourceDecrypted == 0 {
		t.Fatal("the reply was not encrypted")
	}
	content := reply.Content.AsMessage()
	if content.MsgType != event.MsgNotice {
		t.Errorf("reply msgtype = %s, want m.notice", content.MsgType)
	}
	if !strings.Contains(content.Body, "!motion") && !strings.Contains(content.Body, "!help") {
		t.Errorf("help reply lacks commands: %q", content.Body)
	}
	if content.Format != event.FormatHTML || !strings.Contains(content.FormattedBody, "<strong>Quorum</strong>") {
		t.Errorf("reply has no HTML: %q", content.FormattedBody)
	}
	if content.Mentions == nil || len(content.Mentions.UserIDs) != 1 || content.Mentions.UserIDs[0] != ana.UserID || content.Mentions.Room {
		t.Errorf("reply mentions = %+v, want only the sender", content.Mentions)
	}
	if reply.Sender != b.Client().UserID {
		t.Errorf("reply from %s", reply.Sender)
	}
	// /help works too, and an unknown command gets a suggestion.
	if got := ana.Ask(r, "/hlep").Content.AsMessage().Body; !strings.Contains(got, "Did you mean `/help`?") {
		t.Errorf("unknown command reply: %q", got)
	}
}

// TestRestart: the bot keeps its device across restarts, and answers a
// command sent while it was down exactly once.
func TestRestart(t *testing.T) {
	t.Parallel()
	_, b, ana, r := room(t)
	ana.Ask(r, "!help")
	device := b.Client().DeviceID
	b.Stop()

	whileDown := ana.Say(r, "!help motion")
	time.Sleep(500 * time.Millisecond) // let the homeserver take it before the bot syncs again
	b.Start()
	if b.Client().DeviceID != device {
		t.Fatalf("device changed across restart: %s then %s", device, b.Client().DeviceID)
	}
	if devices := ana.DeviceIDs(b.Client().UserID); len(devices) != 1 || devices[0] != device {
		t.Fatalf("bot devices on the server = %v, want only %s", devices, device)
	}
	ana.WaitReply(r, whileDown, wait)

	// Restart again: the command handled before must not be answered again.
	b.Stop()
	b.Start()
	sentinel := ana.Say(r, "!help help")
	ana.WaitReply(r, sentinel, wait)
	if n := len(ana.Replies(r, whileDown)); n != 1 {
		t.Fatalf("command sent while down answered %d times, want 1", n)
	}
}

// TestIgnored: edits of commands, commands from before the bot joined, and
// notices are not executed.
func TestIgnored(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Start()
	ana := testkit.NewClient(t, s, "ana")
	r := ana.CreateRoom(false)
	before := ana.Say(r, "!help")
	ana.Invite(r, b.Client().UserID)
	ana.WaitJoined(r, b.Client().UserID, wait)

	original := ana.Say(r, "hello")
	edit := &event.MessageEventContent{MsgType: event.MsgText, Body: "* !help", NewContent: &event.MessageEventContent{MsgType: event.MsgText, Body: "!help"}}
	edit.SetEdit(original)
	edited := ana.SendContent(r, event.EventMessage, edit)
	notice := ana.SendContent(r, event.EventMessage, &event.MessageEventContent{MsgType: event.MsgNotice, Body: "!help"})

	sentinel := ana.Say(r, "!help help")
	ana.WaitReply(r, sentinel, wait)
	for name, evt := range map[string]id.EventID{"command from before the join": before, "edit": edited, "notice": notice, "edited message": original} {
		if n := len(ana.Replies(r, evt)); n != 0 {
			t.Errorf("%s answered %d times", name, n)
		}
	}
}

// TestUnencryptedRoom: the bot says once that it needs encryption and does
// nothing else there.
func TestUnencryptedRoom(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Start()
	ana := testkit.NewClient(t, s, "ana")
	r := ana.CreateRoom(true, b.Client().UserID)
	ana.WaitFor(wait, "the encryption notice", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, r, b.Client().UserID, "I only work in encrypted rooms")
	})
	cmd := ana.Say(r, "!help")
	// Prove the bot is alive and caught up: it answers in an encrypted room.
	other := ana.CreateRoom(false, b.Client().UserID)
	ana.WaitJoined(other, b.Client().UserID, wait)
	ana.Ask(other, "!help")
	if n := len(ana.Replies(r, cmd)); n != 0 {
		t.Errorf("answered a command in an unencrypted room")
	}
	if n := len(ana.Notices(r, b.Client().UserID, "")); n != 1 {
		t.Errorf("%d notices in the unencrypted room, want exactly 1", n)
	}
}

// TestInvites: invites from outside allowed_inviters are rejected.
func TestInvites(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Config.AllowedInviters = []string{"@ana:localhost"}
	b.Start()
	eve := testkit.NewClient(t, s, "eve")
	ana := testkit.NewClient(t, s, "ana")
	bad := eve.CreateRoom(false, b.Client().UserID)
	eve.WaitFor(wait, "the bot rejecting the invite", func(evt *event.Event) bool {
		return evt.RoomID == bad && evt.Type == event.StateMember && evt.GetStateKey() == b.Client().UserID.String() &&
			evt.Content.AsMember().Membership == event.MembershipLeave
	})
	good := ana.CreateRoom(false, b.Client().UserID)
	ana.WaitJoined(good, b.Client().UserID, wait)
}

// TestNoSecretsInLog: the log holds no password, token, pickle or recovery
// key, and no message content, even though commands were handled and
// cross-signing was set up; and no error, though the bot was stopped.
func TestNoSecretsInLog(t *testing.T) {
	t.Parallel()
	_, b, ana, r := room(t)
	const phrase = "zebra-crossing-7731"
	ana.Ask(r, "!help "+phrase)
	ana.Ask(r, "!nosuchcommand "+phrase)
	b.Stop()
	b.Start()
	ana.Ask(r, "!help")

	pickle, err := os.ReadFile(bot.PickleKeyPath(b.Config.Database))
	if err != nil {
		t.Fatal(err)
	}
	recovery, err := os.ReadFile(bot.RecoveryKeyPath(b.Config.Database))
	if err != nil {
		t.Fatalf("no recovery key file after cross-signing bootstrap: %v", err)
	}
	seal, err := os.ReadFile(store.SealKeyPath(b.Config.Database))
	if err != nil {
		t.Fatalf("no seal key after queuing replies: %v", err)
	}
	secrets := map[string]string{
		"password":     testkit.Password,
		"access token": b.Client().AccessToken,
		"pickle key":   strings.TrimSpace(string(pickle)),
		"recovery key": strings.TrimSpace(string(recovery)),
		"seal key":     strings.TrimSpace(string(seal)),
		"message":      phrase,
	}
	log := b.Log.String()
	if !strings.Contains(log, "Ready") || !strings.Contains(log, `"level":"info"`) {
		t.Fatal("the log buffer is not capturing the bot's log as JSON lines")
	}
	// Nor anything at error level: commands, a clean stop and a start are
	// normal work (a stop cancels what is under way, which is no error).
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `"level":"error"`) {
			t.Errorf("error logged: %s", line)
		}
	}
	for name, secret := range secrets {
		if secret == "" {
			t.Fatalf("%s is empty: the check would prove nothing", name)
		}
		if strings.Contains(log, secret) {
			t.Errorf("the log contains the %s", name)
		}
	}
	for _, path := range []string{b.Config.Database, bot.PickleKeyPath(b.Config.Database), bot.RecoveryKeyPath(b.Config.Database), store.SealKeyPath(b.Config.Database)} {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", path, info.Mode().Perm())
		}
	}
}

// TestCrossSigned: the bot's device is signed by its own self-signing key,
// so clients that only talk to verified devices can trust it.
func TestCrossSigned(t *testing.T) {
	t.Parallel()
	_, b, ana, _ := room(t)
	botID, device := b.Client().UserID, b.Client().DeviceID
	resp, err := ana.QueryKeys(context.Background(), &mautrix.ReqQueryKeys{DeviceKeys: map[id.UserID]mautrix.DeviceIDList{botID: {}}})
	if err != nil {
		t.Fatal(err)
	}
	ssk, ok := resp.SelfSigningKeys[botID]
	if !ok || len(ssk.Keys) == 0 {
		t.Fatal("the bot has no self-signing key on the server")
	}
	dev, ok := resp.DeviceKeys[botID][device]
	if !ok {
		t.Fatalf("device %s not on the server", device)
	}
	signed := false
	for keyID := range ssk.Keys {
		if _, ok := dev.Signatures[botID][keyID]; ok {
			signed = true
		}
	}
	if !signed {
		t.Fatalf("device %s is not signed by the self-signing key; signatures: %v", device, dev.Signatures)
	}
}
