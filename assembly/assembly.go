// Package assembly puts the assembly together: every feature, over the
// command core of package commands. Package bot runs what it returns; the
// tests and benchmarks use it to get the bot's exact set of rules.
package assembly

import (
	"github.com/rs/zerolog"

	"quorum/commands"
	"quorum/commands/elections"
	"quorum/commands/languages"
	"quorum/commands/minutes"
	"quorum/commands/motions"
	"quorum/commands/reminders"
	"quorum/commands/rosters"
	"quorum/commands/study"
	"quorum/config"
)

// New builds the assembly's rules over env. A new feature is a package
// under commands/ and a line here; the order is that of !help.
func New(env *commands.Env, log zerolog.Logger) (*commands.Dispatcher, error) {
	return commands.New(env, log, Features(env, log)...)
}

// Features lists every feature over env.
func Features(env *commands.Env, log zerolog.Logger) []commands.Feature {
	mot := motions.New(env, log)
	del := motions.NewDelegates(mot)
	rem := reminders.New(env, log)
	stu := study.New(env, log, rem)
	stu.AskWith(mot) // a session's time can be asked in a poll
	return []commands.Feature{
		mot,
		motions.NewAmendments(mot),
		del,
		elections.New(mot, del, log),
		motions.NewFederation(mot),
		rosters.New(env, rem),
		rem,
		stu,
		minutes.New(env),
		languages.New(env),
	}
}

// CheckConfig refuses settings the rules cannot work with (a threshold or
// a power level that does not parse), before the bot starts.
func CheckConfig(cfg *config.Config) error { return motions.CheckConfig(cfg) }
