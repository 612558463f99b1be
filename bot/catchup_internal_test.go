package bot

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/event"

	"quorum/commands"
	"quorum/commands/commandstest"
)

// TestEventTime: an event's time is its origin_server_ts within what the
// bot's clock allows, [now - commands.HandledKept, now]; each kind of clamp
// is logged once, with nothing of the event.
func TestEventTime(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	log := &bytes.Buffer{}
	b := &Bot{clock: commandstest.NewClock(now), log: zerolog.New(log)}
	warnedFuture.Store(false)
	warnedPast.Store(false)
	for _, tc := range []struct {
		name string
		at   time.Time
		want time.Time
	}{
		{"now", now, now},
		{"a minute ago", now.Add(-time.Minute), now.Add(-time.Minute)},
		{"a second ahead (clock skew)", now.Add(time.Second), now},
		{"in 2100", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), now},
		{"again in 2100", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), now},
		{"within the memory", now.Add(-commands.HandledKept + time.Hour), now.Add(-commands.HandledKept + time.Hour)},
		{"in 1971", time.Date(1971, 1, 1, 0, 0, 0, 0, time.UTC), now.Add(-commands.HandledKept)},
		{"before 1970", time.UnixMilli(-1), now.Add(-commands.HandledKept)},
	} {
		evt := &event.Event{ID: "$secret-event", Timestamp: tc.at.UnixMilli()}
		if got := b.eventTime(evt); !got.Equal(tc.want) {
			t.Errorf("%s: eventTime = %v, want %v", tc.name, got, tc.want)
		}
	}
	out := log.String()
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("logged %d lines, want one for each direction:\n%s", n, out)
	}
	if strings.Contains(out, "secret-event") {
		t.Errorf("the log names the event:\n%s", out)
	}
}
