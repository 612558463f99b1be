package motions

import (
	"testing"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

// newHarness is motions and delegates in the test room, with members,
// voting by reaction and `!vote` alone (motions.ballot [reactions]), and
// closing as soon as everyone has voted (motions.settle 0s): the rules of
// voting are the same in every channel, and these tests count the messages
// each step sends. The poll channel and the settle time are tested with
// newPollHarness, which has the default configuration.
func newHarness(t *testing.T, members ...id.UserID) *Harness {
	t.Helper()
	return newLoggingHarness(t, zerolog.Nop(), members...)
}

// newLoggingHarness is newHarness with the features logging to log, for
// the tests of what the bot logs.
func newLoggingHarness(t *testing.T, log zerolog.Logger, members ...id.UserID) *Harness {
	t.Helper()
	h := motionsHarness(t, log, members...)
	h.Env.Config.Motions.Ballot = []string{ChannelReactions}
	h.Env.Config.Motions.Settle = "0s"
	return h
}

// newPollHarness is motions and delegates with the default configuration:
// every open motion also opens a poll.
func newPollHarness(t *testing.T, members ...id.UserID) *Harness {
	t.Helper()
	return motionsHarness(t, zerolog.Nop(), members...)
}

// motionsHarness is motions and delegates logging to log.
func motionsHarness(t *testing.T, log zerolog.Logger, members ...id.UserID) *Harness {
	t.Helper()
	return NewHarness(t, func(env *commands.Env, _ zerolog.Logger) []commands.Feature {
		m := New(env, log)
		return []commands.Feature{m, NewDelegates(m)}
	}, members...)
}
