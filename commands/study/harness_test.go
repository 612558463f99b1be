package study

import (
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/commands/reminders"
)

// newHarness is study sessions and reminders in the test room, with
// members.
func newHarness(t *testing.T, members ...id.UserID) *Harness {
	t.Helper()
	return NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		rem := reminders.New(env, log)
		return []commands.Feature{rem, New(env, log, rem)}
	}, members...)
}
