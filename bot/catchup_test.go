package bot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/testkit"
)

// gapFill is more events than the bot's sync timeline holds (100), so that
// what comes before them is only found by paging back.
const gapFill = 110

// fill sends n messages that are not commands.
func fill(c *testkit.Client, room id.RoomID, n int, what string) {
	for i := range n {
		c.Say(room, fmt.Sprintf("%s %d", what, i))
	}
}

// TestCatchUpByPosition: the bot pages back over a gap to the last event it
// processed, whatever the events' timestamps say. Sent while it was down,
// each followed by more than a sync's worth of messages:
//   - a vote and a command, then a vote back-dated to before the last event
//     the bot had seen (which used to end the search there);
//   - after an event dated in 2100 was handled (which used to pin the
//     position for good), a vote;
//   - in a member's direct room, a secret ballot.
//
// Every vote is counted and every command answered, exactly once.
func TestCatchUpByPosition(t *testing.T) {
	t.Parallel()
	_, b, r, cs := startAssembly(t, "ana", "ben", "chi", "dan")
	ana, ben, chi, dan := cs[0], cs[1], cs[2], cs[3]
	botID := b.Client().UserID

	ana.Say(r, "!motion --closes 1h Buy a new banner")
	findNotice(ana, r, botID, "Motion #1")
	ana.Say(r, "!motion --secret --closes 1h Strike on Friday")
	ballot := ben.WaitFor(wait, "a ballot", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #2")
	})
	code, _ := ballot.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)
	time.Sleep(1100 * time.Millisecond) // the back-dated vote below is still after the bot's join
	seen := ana.Ask(r, "!help")         // the last event the bot processes before the stop, give or take its reply
	time.Sleep(1100 * time.Millisecond)

	// 1. A gap with a back-dated vote inside.
	b.Stop()
	benVote := ben.Say(r, "!vote 1 yes")
	help := ana.Say(r, "!help vote")
	fill(dan, r, gapFill, "chatter")
	chiVote := chi.SayAt(r, "!vote 1 no", time.UnixMilli(seen.Timestamp).Add(-time.Second))
	fill(dan, r, gapFill, "more chatter")
	b.Start()
	for _, c := range []struct {
		who  *testkit.Client
		evt  id.EventID
		want string
	}{{ben, benVote, "Your vote on motion #1: yes"}, {ana, help, "vote"}, {chi, chiVote, "Your vote on motion #1: no"}} {
		reply := c.who.WaitReply(r, c.evt, wait)
		if got := reply.Content.AsMessage().Body; !strings.Contains(got, c.want) {
			t.Errorf("reply to %s = %q, want %q", c.who.UserID, got, c.want)
		}
	}

	// 2. A gap after an event dated in 2100.
	future := ana.SayAt(r, "!help motion", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	ana.WaitReply(r, future, wait)
	b.Stop()
	danVote := dan.Say(r, "!vote 1 abstain")
	fill(ana, r, gapFill, "chatter after 2100")
	// 3. A gap in a direct room: a secret ballot, then more than a sync's
	// worth of messages there.
	secret := ben.Say(ballot.RoomID, "!vote "+code+" y")
	fill(ben, ballot.RoomID, gapFill, "note")
	b.Start()
	dan.WaitReply(r, danVote, wait)
	if got := ben.WaitReply(ballot.RoomID, secret, wait).Content.AsMessage().Body; !strings.Contains(got, "receipt code is") {
		t.Errorf("secret ballot reply = %q", got)
	}

	tally := ana.Ask(r, "!motion 1")
	f, _ := tally.Content.Raw["quorum.motion"].(map[string]any)
	if f["yes"] != 1.0 || f["no"] != 1.0 || f["abstain"] != 1.0 {
		t.Errorf("tally after the gaps = %v, want 1 yes, 1 no, 1 abstain", f)
	}
	if got := ana.Ask(r, "!motion 2").Content.AsMessage().Body; !strings.Contains(got, "1 of 4 voted") {
		t.Errorf("secret motion after the gap: %q, want 1 of 4 voted", got)
	}

	// Once more: nothing is handled twice.
	b.Stop()
	b.Start()
	ana.Ask(r, "!motions")
	for who, evt := range map[*testkit.Client]id.EventID{ben: benVote, ana: help, chi: chiVote, dan: danVote} {
		if n := len(who.Replies(r, evt)); n != 1 {
			t.Errorf("%s's command answered %d times, want 1", who.UserID, n)
		}
	}
	if n := len(ben.Replies(ballot.RoomID, secret)); n != 1 {
		t.Errorf("secret ballot answered %d times, want 1", n)
	}
	if strings.Contains(b.Log.String(), "found no event it had processed") {
		t.Error("a catch-up did not find where it was")
	}
}
