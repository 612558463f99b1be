package bot_test

import (
	"context"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// TestHomeserverRestart: the homeserver restarts mid-run; the bot finds it
// again by itself, answers commands and counts votes afterwards, and does
// not answer anything twice.
func TestHomeserverRestart(t *testing.T) {
	t.Parallel()
	s, b, r, cs := startAssembly(t, "ana", "ben", "chi")
	ana, ben := cs[0], cs[1]
	botID := b.Client().UserID
	ana.Say(r, "!motion --closes 1h Keep going after an outage")
	notice := findNotice(ana, r, botID, "Motion #1")
	before := ana.Say(r, "!help motion")
	ana.WaitReply(r, before, wait)

	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The bot's sync backs off up to 30 s between attempts: allow for it.
	const afterRestart = 90 * time.Second
	ana.WaitReply(r, ana.Say(r, "!help"), afterRestart)
	ben.React(r, notice.ID, "👍", true)
	ana.WaitFor(afterRestart, "the tally edit after the restart", func(evt *event.Event) bool {
		return isEditOf(evt, notice.ID, "1 yes · 0 no · 0 abstain")
	})
	if replies := ana.Replies(r, before); len(replies) != 1 {
		var ids []id.EventID
		for _, evt := range replies {
			ids = append(ids, evt.ID)
		}
		t.Errorf("the command from before the restart was answered %d times (%v), want 1", len(replies), ids)
	}
	if n := len(ana.Notices(r, botID, "Motion #1")); n != 1 {
		t.Errorf("%d motion notices, want 1", n)
	}
}
