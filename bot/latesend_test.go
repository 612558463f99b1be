package bot_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
	"quorum/testkit"
)

// lateSend is a homeserver reached over a slow link: once armed, the next
// encrypted send reaches it only after the bot was told the request timed
// out, together with the bot's next try at it, if one comes within 5 s.
type lateSend struct {
	armed atomic.Bool
	mu    sync.Mutex
	path  string        // the held send's URL path: its transaction ID
	again chan struct{} // closed when the bot sends it again
}

func (l *lateSend) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && strings.Contains(req.URL.Path, "/send/m.room.encrypted/") {
		if l.armed.CompareAndSwap(true, false) {
			body, err := io.ReadAll(req.Body)
			if err != nil {
				return nil, err
			}
			held := req.Clone(context.WithoutCancel(req.Context()))
			held.Body, held.GetBody = io.NopCloser(bytes.NewReader(body)), nil
			again := make(chan struct{})
			l.mu.Lock()
			l.path, l.again = req.URL.Path, again
			l.mu.Unlock()
			go func() {
				select {
				case <-again:
				case <-time.After(5 * time.Second):
				}
				if res, err := http.DefaultTransport.RoundTrip(held); err == nil {
					_ = res.Body.Close()
				}
			}()
			return nil, context.DeadlineExceeded // as http.Client's timeout says it
		}
		l.mu.Lock()
		if req.URL.Path == l.path && l.again != nil {
			close(l.again)
			l.again = nil
		}
		l.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestTimedOutSendNotDoubled: a send that reaches the homeserver after the
// bot stopped waiting for it is not sent again while the homeserver may
// still be making it (two requests with one transaction ID at once become
// two events: at 1,000 members a receipt came twice). Its echo completes
// it, and the room has it once.
func TestTimedOutSendNotDoubled(t *testing.T) {
	t.Parallel()
	late := &lateSend{}
	_, b, ana, r := roomWith(t, func(b *testkit.Bot) { b.Opts.Transport = late })
	botID := b.Client().UserID

	late.armed.Store(true)
	if err := b.Queue(store.Outgoing{Room: r, Kind: commands.KindMessage, Payload: msg.Marshal(msg.F("Only once, please."))}); err != nil {
		t.Fatal(err)
	}
	findNotice(ana, r, botID, "Only once")
	deadline := time.Now().Add(90 * time.Second)
	for q, err := b.Queued(); q != 0 || err != nil; q, err = b.Queued() {
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("%d entries still queued after 90 s (%v)", q, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // a second event, made by then, has reached ana's device
	n := 0
	for _, evt := range ana.Events() {
		if evt.Sender == botID && evt.Type == event.EventMessage && strings.Contains(evt.Content.AsMessage().Body, "Only once") {
			n++
		}
	}
	if late.armed.Load() || n != 1 {
		t.Errorf("the room has the message %d times, want once (held: %t)", n, !late.armed.Load())
	}
}
