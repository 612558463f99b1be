package bot_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/testkit"
)

// holdsSend is a homeserver that, once armed, holds the bot's next
// encrypted send to room until release is closed.
type holdsSend struct {
	room    id.RoomID // set before arming
	armed   atomic.Bool
	held    chan struct{} // closed when the send is held
	release chan struct{}
}

func (h *holdsSend) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/send/m.room.encrypted/") &&
		h.armed.Load() && strings.Contains(req.URL.Path, "/rooms/"+string(h.room)+"/") && h.armed.CompareAndSwap(true, false) {
		close(h.held)
		select {
		case <-h.release:
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestReceiptSentAtStop: a receipt still being sent when the bot is asked
// to stop is sent before it stops. The bot keeps no copy of a receipt
// (outbox.go, unkept), so one left unsent would be lost: its voter told
// after the restart that their vote counted and its receipt is gone.
func TestReceiptSentAtStop(t *testing.T) {
	t.Parallel()
	b, ben, dm, vote, hold := receiptHeld(t)
	stopped := make(chan struct{})
	go func() { b.Stop(); close(stopped) }()
	time.Sleep(time.Second) // the stop has begun
	close(hold.release)
	<-stopped
	receipt := ben.WaitReply(dm, vote, wait)
	if body := receipt.Content.AsMessage().Body; !strings.Contains(body, "receipt code is") {
		t.Errorf("the reply to the vote is not its receipt: %q", body)
	}
}

// TestStopNotHeldByReceipt: a receipt the homeserver does not take keeps
// the bot from stopping for a few seconds only (drainWait), and the log
// says it was left.
func TestStopNotHeldByReceipt(t *testing.T) {
	t.Parallel()
	b, _, _, _, _ := receiptHeld(t)
	b.Stop() // fails the test if it takes 30 s
	if !strings.Contains(b.Log.String(), "Stopping with receipts unsent") {
		t.Error("the log does not say the bot stopped with a receipt unsent")
	}
}

// receiptHeld starts a bot behind holdsSend, and has ben vote in a secret
// ballot with the send of his receipt held. It returns ben's direct room
// and vote.
func receiptHeld(t *testing.T) (*testkit.Bot, *testkit.Client, id.RoomID, id.EventID, *holdsSend) {
	t.Helper()
	hold := &holdsSend{held: make(chan struct{}), release: make(chan struct{})}
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Opts.Transport = hold
	b.Start()
	r, cs := assembly(t, s, b, "ana", "ben")
	ana, ben := cs[0], cs[1]
	botID := b.Client().UserID

	ana.Say(r, "!motion --secret --closes 1h Strike on Friday")
	ballot := ben.WaitFor(wait, "a ballot", func(evt *event.Event) bool {
		return evt.RoomID != r && testkit.IsNotice(evt, evt.RoomID, botID, "Secret ballot: motion #1")
	})
	code, _ := ballot.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)
	hold.room = ballot.RoomID
	hold.armed.Store(true)
	vote := ben.Say(ballot.RoomID, "!vote "+code+" y")
	select {
	case <-hold.held:
	case <-time.After(wait):
		t.Fatal("no receipt was sent")
	}
	return b, ben, ballot.RoomID, vote, hold
}
