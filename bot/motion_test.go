package bot_test

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/sandbox"
	"quorum/testkit"
)

// startAssembly starts a homeserver and a bot with the default
// configuration, and sets up an assembly room of the given members.
func startAssembly(t *testing.T, names ...string) (*sandbox.Server, *testkit.Bot, id.RoomID, []*testkit.Client) {
	t.Helper()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Start()
	r, cs := assembly(t, s, b, names...)
	return s, b, r, cs
}

// assembly sets up an encrypted room with the bot and the given members
// (the first creates it), everyone joined.
func assembly(t *testing.T, s *sandbox.Server, b *testkit.Bot, names ...string) (id.RoomID, []*testkit.Client) {
	t.Helper()
	clients := make([]*testkit.Client, len(names))
	for i, n := range names {
		clients[i] = testkit.NewClient(t, s, n)
	}
	invite := []id.UserID{b.Client().UserID}
	for _, c := range clients[1:] {
		invite = append(invite, c.UserID)
	}
	r := clients[0].CreateRoom(false, invite...)
	for _, u := range invite {
		clients[0].WaitJoined(r, u, wait)
	}
	return r, clients
}

// findNotice waits for the bot's notice containing substr and returns it.
func findNotice(c *testkit.Client, r id.RoomID, bot id.UserID, substr string) *event.Event {
	return c.WaitFor(wait, "notice "+substr, func(evt *event.Event) bool { return testkit.IsNotice(evt, r, bot, substr) })
}

// TestMotionEndToEnd: three members vote by encrypted reactions, change and
// withdraw votes (a withdrawal is confirmed privately), an outsider's vote
// is refused privately, the bot restarts mid-vote, the deadline passes
// while it is down, and the result is posted once, with quorum.motion,
// after it comes back.
func TestMotionEndToEnd(t *testing.T) {
	t.Parallel()
	s, b, clock := clockedBot(t)
	r, cs := assembly(t, s, b, "ana", "ben", "chi")
	ana, ben := cs[0], cs[1] // chi does not vote
	botID := b.Client().UserID

	ana.Say(r, "!motion --quorum 2 --closes 1h Buy a new banner")
	notice := findNotice(ana, r, botID, "Motion #1")
	if notice.Content.Raw["quorum.motion"] == nil {
		t.Fatal("the motion notice has no quorum.motion")
	}

	eve := testkit.NewClient(t, s, "eve") // joins after the motion opened
	ana.Invite(r, eve.UserID)
	ana.WaitJoined(r, eve.UserID, wait)

	ana.React(r, notice.ID, "👍", true)
	ben.React(r, notice.ID, "👎🏽", true)
	anaAbstain := ana.React(r, notice.ID, "🤷", true) // ana changes to abstain...
	eve.React(r, notice.ID, "👍", true)
	ana.WaitFor(wait, "the tally with ana's abstention", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "0 yes · 1 no · 1 abstain — 2 of 3 voted")
	})
	ana.Redact(r, anaAbstain) // ...and takes it back: her 👍 stands again
	ana.WaitFor(wait, "the tally edit", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "1 yes · 1 no · 0 abstain — 2 of 3 voted")
	})
	eve.WaitFor(wait, "a private note that her vote did not count", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "not counted")
	})
	// A redaction is never encrypted: the voter hears of it privately.
	ana.WaitFor(wait, "a private note that her abstention was withdrawn", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "you voted abstain on motion #1 was deleted")
	})

	b.Stop()
	ben.React(r, notice.ID, "👍", true) // changes his vote while the bot is down
	time.Sleep(time.Second)            // let the homeserver stamp it well before the restart
	clock.Advance(2 * time.Hour)       // the deadline passes while the bot is down
	b.Start()

	result := findNotice(ana, r, botID, "Motion #1: Carried")
	if got := result.Content.AsMessage().Body; !strings.Contains(got, "Carried 2–0, 0 abstentions; 2 of 3 voted, quorum 2") {
		t.Errorf("result = %q", got)
	}
	if result.Content.AsMessage().RelatesTo.GetNonFallbackReplyTo() != notice.ID {
		t.Error("the result is not a reply to the motion")
	}
	f, _ := result.Content.Raw["quorum.motion"].(map[string]any)
	if f["status"] != "carried" || f["yes"] != 2.0 || f["no"] != 0.0 || f["electorate"] != 3.0 || f["id"] != 1.0 {
		t.Errorf("result quorum.motion = %v", f)
	}

	// Restart again: nothing is decided twice.
	b.Stop()
	b.Start()
	ana.Ask(r, "!motions")
	if n := len(ana.Notices(r, botID, "Motion #1: Carried")); n != 1 {
		t.Errorf("result posted %d times, want 1", n)
	}
}

// isEditOf says whether evt edits target so that its new body contains substr.
func isEditOf(evt *event.Event, target id.EventID, substr string) bool {
	if evt.Type != event.EventMessage {
		return false
	}
	m := evt.Content.AsMessage()
	return m.RelatesTo.GetReplaceID() == target && m.NewContent != nil && strings.Contains(m.NewContent.Body, substr)
}
