package bot_test

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/sandbox"
	"quorum/testkit"
)

// TestRateLimited: under Dendrite's rate limits (each device two requests
// per 5 s on the endpoints it limits: joins, invites, /messages, logins),
// the bot invited into ten rooms at once joins them all, and a secret
// ballot for eight members reaches each of them exactly once, every vote
// gets its receipt and the result counts them all: the bot waited as the
// homeserver asked (its log says so) instead of failing or sending twice.
func TestRateLimited(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserverWith(t, sandbox.Options{RateLimit: &sandbox.RateLimit{Threshold: 2, CooloffMS: 5000}})
	b := testkit.NewBot(t, s)
	b.Start()
	names := []string{"ana", "ben", "chi", "dan", "eve", "fay", "gus", "hal"}
	r, cs := assembly(t, s, b, names...)
	botID := b.Client().UserID
	var extra []id.RoomID
	for range 10 {
		extra = append(extra, cs[0].CreateRoom(false, botID))
	}
	for _, room := range extra {
		cs[0].WaitJoined(room, botID, wait)
	}
	cs[0].Say(r, "!motion --secret --closes 1h Strike on Friday")
	for i, c := range cs {
		ballot := c.WaitFor(wait, "a ballot", func(evt *event.Event) bool {
			return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #1")
		})
		code, _ := ballot.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)
		choice := []string{"y", "n"}[i%2]
		receipt := c.WaitReply(ballot.RoomID, c.Say(ballot.RoomID, "!vote "+code+" "+choice), wait)
		if !strings.Contains(receipt.Content.AsMessage().Body, "receipt code is") {
			t.Fatalf("%s: no receipt: %q", c.UserID, receipt.Content.AsMessage().Body)
		}
	}
	result := findNotice(cs[0], r, botID, "Motion #1: ")
	if body := result.Content.AsMessage().Body; !strings.Contains(body, "4–4") || !strings.Contains(body, "8 of 8 voted") {
		t.Errorf("result = %q, want 4–4 with 8 of 8 voted", body)
	}
	// Counted by event: a client's sync may hand it the same event twice,
	// which is not the bot sending twice.
	for _, c := range cs {
		ballots := map[id.EventID]bool{}
		for _, evt := range c.Events() {
			if evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #1") {
				ballots[evt.ID] = true
			}
		}
		if len(ballots) != 1 {
			t.Errorf("%s got %d ballots", c.UserID, len(ballots))
		}
	}
	if n := strings.Count(b.Log.String(), "Rate limited by the homeserver"); n == 0 {
		t.Error("the bot was never rate limited: the test tests nothing")
	} else {
		t.Logf("the bot waited %d times", n)
	}
}
