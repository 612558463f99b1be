package bot

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands/commandstest"
	"quorum/store"
)

// TestNoDecryptBeforeJoin: the crypto helper's handler (registered through
// cryptoSyncer, as login does) is not given the encrypted messages
// sent before the bot joined their room, so it neither waits for their keys
// nor asks anyone for them; later messages, and those of a room the
// database does not know, still reach it, as does the bot's own handler
// registered before.
func TestNoDecryptBeforeJoin(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "q.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 30, 21, 0, 0, 0, time.UTC)
	b := &Bot{st: st, clock: commandstest.NewClock(now), log: zerolog.New(io.Discard)}
	s := newSyncer(b)
	joined := now.Add(-time.Minute)
	const room, unknown = id.RoomID("!council:x"), id.RoomID("!other:x")
	if err := st.Rooms().Joined(ctx, room, joined); err != nil {
		t.Fatal(err)
	}
	var own, helper []id.EventID
	s.OnEventType(event.EventEncrypted, func(_ context.Context, evt *event.Event) { own = append(own, evt.ID) })
	init := cryptoSyncer{syncer: s, skip: b.beforeJoin}
	init.OnEventType(event.EventEncrypted, func(_ context.Context, evt *event.Event) { helper = append(helper, evt.ID) })
	for _, evt := range []*event.Event{
		{ID: "$history", RoomID: room, Timestamp: joined.Add(-time.Second).UnixMilli()},
		{ID: "$after", RoomID: room, Timestamp: joined.Add(time.Second).UnixMilli()},
		{ID: "$unknown-room", RoomID: unknown, Timestamp: joined.Add(-time.Hour).UnixMilli()},
	} {
		evt.Type = event.EventEncrypted
		evt.Content = event.Content{Parsed: &event.EncryptedEventContent{SessionID: "s"}}
		s.Dispatch(ctx, evt)
	}
	if len(own) != 3 {
		t.Errorf("the bot's own handler got %v, want all three", own)
	}
	if len(helper) != 2 || helper[0] != "$after" || helper[1] != "$unknown-room" {
		t.Errorf("the helper's handler got %v, want [$after $unknown-room]", helper)
	}
}
