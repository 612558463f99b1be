package bot_test

import (
	"strings"
	"testing"
	"time"

	"quorum/testkit"
)

// TestLoggedOutBotEnds: when the homeserver no longer accepts the bot's
// login (an admin deleted its device), Run returns and says why, so a
// supervisor sees the bot down instead of a process that answers nobody.
func TestLoggedOutBotEnds(t *testing.T) {
	t.Parallel()
	s := testkit.StartHomeserver(t)
	b := testkit.NewBot(t, s)
	b.Start()
	if _, err := b.Client().Logout(t.Context()); err != nil {
		t.Fatalf("log the bot out: %v", err)
	}
	err := b.Ended(2 * time.Minute)
	if err == nil || !strings.Contains(err.Error(), "no longer accepts the bot's login") {
		t.Errorf("Run returned %v, not that the login is refused", err)
	}
}
