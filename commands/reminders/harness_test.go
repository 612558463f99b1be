package reminders

import (
	"testing"

	"github.com/rs/zerolog"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

// newHarness is reminders in a test room that shows times in zone, with
// ana, ben, chi and dan in it.
func newHarness(t *testing.T, zone string) *Harness {
	t.Helper()
	h := NewHarness(t, func(env *commands.Env, log zerolog.Logger) []commands.Feature {
		return []commands.Feature{New(env, log)}
	}, Ana, Ben, Chi, Dan)
	h.Env.Config.Timezone = zone
	return h
}
