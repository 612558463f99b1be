package bot_test

import (
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/testkit"
)

// lostKeyNotice begins what the bot says before sending things again.
const lostKeyNotice = "Your device asked me for the key of earlier messages here"

// TestBallotSentAgain: a member's device that lost the room key of its
// ballot asks the bot for it. The bot, which ratcheted its copy past the
// ballot, can forward the session only from a later message; it sends the
// ballot again, under a new session whose key comes as a room key (some
// clients take forwarded keys only from their own devices), and the member
// votes with it. It waits 10 minutes first (a device also asks when a key
// is only late) and sends only what is still not cast then. Asked for the
// assembly room's session (as of that room, or named as of the direct
// room), or by a member who voted already, it sends nothing; asked three
// times at once, or again soon, it sends things again once.
func TestBallotSentAgain(t *testing.T) {
	t.Parallel()
	s, b, clock := clockedBot(t)
	r, cs := assembly(t, s, b, "ana", "ben")
	ana, ben := cs[0], cs[1]
	bot := b.Client()
	ana.Say(r, "!motion --secret --closes 1h Strike on Friday")
	findNotice(ana, r, bot.UserID, "Motion #1")
	// The ballots c has, in direct rooms.
	ballots := func(c *testkit.Client) []*event.Event {
		var out []*event.Event
		for _, evt := range c.Events() {
			if evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, bot.UserID, "Secret ballot: motion #1") {
				out = append(out, evt)
			}
		}
		return out
	}
	told := func(c *testkit.Client, dm id.RoomID) int { return len(c.Notices(dm, bot.UserID, lostKeyNotice)) }
	for _, c := range cs {
		c.WaitFor(wait, "a ballot", func(evt *event.Event) bool {
			return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, bot.UserID, "Secret ballot: motion #1")
		})
	}
	anaDM, benDM := ballots(ana)[0].RoomID, ballots(ben)[0].RoomID
	ana.Ask(anaDM, "!vote 1 y")
	// A reply after the ballot: the bot has read its ballot back (and
	// ratcheted past it) before it answers.
	ben.Ask(benDM, "!help")

	lose := func(c *testkit.Client, room id.RoomID) map[id.SessionID]int {
		t.Helper()
		lost := c.LoseRoomKeys(room, bot.UserID, bot.DeviceID, wait)
		for sess, first := range lost {
			if first < 0 {
				t.Fatalf("%s: the bot forwarded nothing for session %s", c.UserID, sess)
			}
			if room != r && first == 0 {
				t.Fatalf("%s: the bot forwarded session %s whole: it kept what decrypts the ballot", c.UserID, sess)
			}
		}
		return lost
	}
	for sess := range lose(ben, r) {
		// The assembly room's session, named as of ben's direct room:
		// mautrix checks only that it was shared with ben's device.
		ben.AskKeyAs(benDM, sess, bot.UserID, bot.DeviceID)
	}
	lose(ana, anaDM)
	// What a request schedules is due 10 minutes later; twice past the
	// limit of one sending again per member and 10 minutes: had the
	// assembly room's key sent ben anything, the next would too.
	for range 2 {
		clock.Advance(11 * time.Minute)
		b.Wake()
	}
	lost := lose(ben, benDM)
	// Nothing at once: a device also asks when a key is only late.
	time.Sleep(3 * time.Second)
	if n := told(ben, benDM); n != 0 {
		t.Fatalf("ben was told at once (%d times) that his device could not read messages", n)
	}
	clock.Advance(11 * time.Minute)
	b.Wake()

	first := ballots(ben)[0].ID
	again := ben.WaitFor(wait, "the ballot sent again", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, benDM, bot.UserID, "Secret ballot: motion #1") && evt.ID != first
	})
	if sess := ben.Session(again.ID); sess == "" {
		t.Error("the ballot sent again came unencrypted")
	} else if _, old := lost[sess]; old {
		t.Error("the ballot sent again is in a session whose key was lost: a client that takes no forwarded key from another user's device could not read it")
	}
	// Asked again at once, the bot sends nothing more, even once what a
	// request schedules would be due: it would come before the receipt
	// below.
	ben.LoseRoomKeys(benDM, bot.UserID, bot.DeviceID, wait)
	clock.Advance(11 * time.Minute)
	b.Wake()
	code := again.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)
	receipt := ben.Ask(benDM, "!vote "+code+" n")
	if !strings.Contains(receipt.Content.AsMessage().Body, "Your receipt code is") {
		t.Fatalf("ben's vote with the ballot sent again: %q", receipt.Content.AsMessage().Body)
	}
	findNotice(ana, r, bot.UserID, "Motion #1: Failed 1–1")

	if n := len(ballots(ben)); n != 2 {
		t.Errorf("ben has %d ballots, want 2 (the first and the one sent again)", n)
	}
	if n := told(ben, benDM); n != 1 {
		t.Errorf("ben was told %d times that his device could not read messages, want once", n)
	}
	if n, k := len(ballots(ana)), told(ana, anaDM); n != 1 || k != 0 {
		t.Errorf("ana, who had voted, has %d ballots and was told %d times of unreadable messages, want 1 and 0", n, k)
	}
}

// TestBallotSentAgainAtMostThrice: a device that keeps losing its keys (or
// a member who keeps asking for them) is sent its ballot again three times
// in a run of the bot, not more: each time posts a new line and ballot in
// the member's direct room.
func TestBallotSentAgainAtMostThrice(t *testing.T) {
	t.Parallel()
	s, b, clock := clockedBot(t)
	r, cs := assembly(t, s, b, "ana", "ben")
	ana, ben := cs[0], cs[1]
	bot := b.Client()
	ana.Say(r, "!motion --secret --closes 48h Strike on Friday")
	dm := ben.WaitFor(wait, "a ballot", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, bot.UserID, "Secret ballot: motion #1")
	}).RoomID
	ballots := func() int { return len(ben.Notices(dm, bot.UserID, "Secret ballot: motion #1")) }
	for asked := 1; asked <= 4; asked++ {
		// A reply after the last ballot: the bot has read it back (and
		// ratcheted past it) before it answers.
		ben.Ask(dm, "!help")
		ben.LoseRoomKeys(dm, bot.UserID, bot.DeviceID, wait)
		clock.Advance(11 * time.Minute) // what the request scheduled is due
		b.Wake()
		if asked == 4 {
			break
		}
		for deadline := time.Now().Add(wait); ballots() < asked+1; time.Sleep(100 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("request %d: the ballot was not sent again (%d ballots)", asked, ballots())
			}
		}
		clock.Advance(11 * time.Minute) // past the limit of once in 10 minutes
	}
	time.Sleep(3 * time.Second) // a fifth ballot, sent by then, has reached ben's device
	if n, told := ballots(), len(ben.Notices(dm, bot.UserID, lostKeyNotice)); n != 4 || told != 3 {
		t.Errorf("after 4 requests ben has %d ballots and was told %d times, want 4 and 3", n, told)
	}
}
