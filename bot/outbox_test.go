package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
	"quorum/testkit"
)

// TestOutboxCannotBlock: what is queued for a room the bot was kicked from
// (more than a hundred entries, at the head of the outbox) and edits whose
// original was dropped hold back nothing else: the working room gets its
// messages in order at once, the edits and the kicked room's entries are
// given up at once (the latter at their first refusal), each counted. A direct room whose
// creation keeps failing (the member's server does not answer) is created
// once, not once per retry.
func TestOutboxCannotBlock(t *testing.T) {
	t.Parallel()
	_, b, ana, r := room(t)
	botID := b.Client().UserID
	ctx := context.Background()

	kicked := ana.CreateRoom(false, botID)
	ana.WaitJoined(kicked, botID, wait)
	if _, err := ana.KickUser(ctx, kicked, &mautrix.ReqKickUser{UserID: botID}); err != nil {
		t.Fatal(err)
	}
	waitLeft(ana, kicked, botID)
	rooms := func() int {
		t.Helper()
		resp, err := b.Client().JoinedRooms(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(resp.JoinedRooms)
	}
	before := rooms()

	say := func(room id.RoomID, m msg.Message) store.Outgoing {
		return store.Outgoing{Room: room, Kind: commands.KindMessage, Payload: msg.Marshal(m)}
	}
	orphanEdit := msg.F("an edit")
	orphanEdit.Edit = &msg.Anchor{Kind: "never.sent", Ref: 1}
	queue := []store.Outgoing{
		say(r, orphanEdit),
		// A direct message for someone whose server is unreachable: the
		// room is made, the invite fails, every retry.
		{DMUser: id.UserID("@nobody:127.0.0.1:9"), Kind: commands.KindMessage, Payload: msg.Marshal(msg.F("for nobody"))},
	}
	for i := range 120 {
		queue = append(queue, say(kicked, msg.F("stuck %d", i)))
	}
	queue = append(queue, say(r, msg.F("first after the stuck ones")), say(r, orphanEdit), say(r, msg.F("second after the stuck ones")))
	start := time.Now()
	if err := b.Queue(queue...); err != nil {
		t.Fatal(err)
	}
	first := findNotice(ana, r, botID, "first after the stuck ones")
	second := findNotice(ana, r, botID, "second after the stuck ones")
	t.Logf("the working room's messages came %s after they were queued", time.Since(start).Round(time.Millisecond))
	if first.Timestamp > second.Timestamp {
		t.Error("the working room's messages came out of order")
	}
	if n := b.GivenUp(); n < 2 {
		t.Errorf("%d entries given up once the working room's came, want the 2 edits at least", n)
	}
	for _, evt := range ana.Events() {
		if evt.Sender == botID && evt.Type == event.EventMessage && strings.Contains(evt.Content.AsMessage().Body, "an edit") {
			t.Error("an edit whose original was never sent was sent")
		}
	}

	// The kicked room's entries are refused, and given up at the first
	// refusal (the bot is not in the room); the direct message after
	// maxAttempts refusals (backoff 1+2+4+8 s).
	deadline := time.Now().Add(40 * time.Second)
	for b.GivenUp() < 2+120+1 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	if n := b.GivenUp(); n != 2+120+1 {
		t.Errorf("%d entries given up after 40 s, want the 2 edits, the 120 for the kicked room and the direct message", n)
	}
	retries := 0
	for _, line := range strings.Split(b.Log.String(), "\n") {
		if strings.Contains(line, "Sending failed") && strings.Contains(line, `"direct_room":true`) {
			retries++
		}
	}
	if retries < 3 {
		t.Errorf("the direct message was tried %d times, want 3 or more", retries)
	}
	if !strings.Contains(b.Log.String(), "Found a direct room whose creation had not finished") {
		t.Error("no retry found the direct room made by the failed creation")
	}
	if got := rooms(); got != before+1 {
		t.Errorf("the bot is in %d rooms, %d before: want one more (one direct room however many retries)", got, before)
	}
	if q, err := b.Queued(); err != nil || q != 0 {
		t.Errorf("%d entries queued (%v), want none", q, err)
	}
	if log := b.Log.String(); strings.Contains(log, "stuck") || strings.Contains(log, "for nobody") || strings.Contains(log, "@nobody") {
		t.Error("the log names a queued message's text or the member a direct message is for")
	}
}

// roomsWithBot has c create n encrypted rooms with the bot and waits until
// it has joined them all.
func roomsWithBot(c *testkit.Client, bot id.UserID, n int) []id.RoomID {
	rooms := make([]id.RoomID, n)
	for i := range rooms {
		rooms[i] = c.CreateRoom(false, bot)
	}
	for _, r := range rooms {
		c.WaitJoined(r, bot, wait)
	}
	return rooms
}

// TestOutboxTakesTurns: with more rooms than the sender serves at once (4),
// each with three messages queued at the same moment (a result, an edit, a
// reply), every room's first message goes out before the last messages of
// all but the few rooms being served when no one waits any more: while
// rooms wait for a worker, the sender sends one entry of a room and moves
// on rather than emptying it. Each room's messages stay in order.
func TestOutboxTakesTurns(t *testing.T) {
	t.Parallel()
	_, b, ana, r := room(t)
	botID := b.Client().UserID
	// A round trip first, so that the bot has ana's keys before the burst:
	// the test is about the order of sends, not a first share's race.
	ana.Ask(r, "!help")
	rooms := roomsWithBot(ana, botID, 9)
	var queue []store.Outgoing
	for i, r := range rooms {
		for k := 1; k <= 3; k++ {
			queue = append(queue, store.Outgoing{Room: r, Kind: commands.KindMessage, Payload: msg.Marshal(msg.F("room %d, message %d", i, k))})
		}
	}
	if err := b.Queue(queue...); err != nil {
		t.Fatal(err)
	}
	var firsts, lasts []int64
	for i, r := range rooms {
		var ts []int64
		for k := 1; k <= 3; k++ {
			ts = append(ts, findNotice(ana, r, botID, fmt.Sprintf("room %d, message %d", i, k)).Timestamp)
		}
		if !slices.IsSorted(ts) {
			t.Errorf("room %d: messages out of order (%v)", i, ts)
		}
		firsts, lasts = append(firsts, ts[0]), append(lasts, ts[2])
	}
	// A room yields after one message while others wait for a worker. The
	// rooms still sending their first when the last room gets a worker
	// (at most the 4 workers') see no one waiting and empty their own, so
	// their last messages may race the slowest first; every other room's
	// last goes in a later pass, after every first. The old sender emptied
	// each room in turn: the ninth room started only after five had sent
	// all three.
	slices.Sort(lasts)
	if first := slices.Max(firsts); first >= lasts[4] {
		t.Errorf("a room's first message (%d ms) went out after five rooms' last (%d ms)", first, lasts[4])
	}
}

// TestFirstShareInManyRooms: the bot's first messages to a member it has
// never queried, in several rooms at once, are all readable by her. With
// the query of her keys slowed, a share in another room during it would
// take her devices for not cross-signed and withhold the room key.
func TestFirstShareInManyRooms(t *testing.T) {
	t.Parallel()
	_, b, ana, _ := room(t)
	botID := b.Client().UserID
	rooms := roomsWithBot(ana, botID, 4)
	var queue []store.Outgoing
	for i, r := range rooms {
		queue = append(queue, store.Outgoing{Room: r, Kind: commands.KindMessage, Payload: msg.Marshal(msg.F("room %d", i))})
	}
	b.SlowDeviceLists(2 * time.Second)
	if err := b.Queue(queue...); err != nil {
		t.Fatal(err)
	}
	for i, r := range rooms {
		findNotice(ana, r, botID, fmt.Sprintf("room %d", i))
	}
}
