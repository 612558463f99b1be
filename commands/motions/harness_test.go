package motions

import (
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

// newHarness is motions and delegates in the test room, with members.
func newHarness(t *testing.T, members ...id.UserID) *Harness {
	t.Helper()
	return NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		m := New(env, log)
		return []commands.Feature{m, NewDelegates(m)}
	}, members...)
}
