package assembly_test

import (
	"strings"
	"testing"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

// TestAliases: every alias of commands.Aliases names a command of the
// assembly and finds it, and none is another command's name or alias (the
// registry refuses those; this makes sure it was built).
func TestAliases(t *testing.T) {
	h := newHarness(t, Ana)
	reg := h.A.Registry()
	names := map[string]string{} // every name and alias → its command
	for _, c := range reg.All() {
		for _, n := range append([]string{c.Name}, c.Aliases...) {
			names[n] = c.Name
		}
	}
	seen := map[string]string{}
	for lang, table := range commands.Aliases {
		for alias, name := range table {
			if other, ok := names[alias]; ok {
				t.Errorf("%s alias %q is also a name of %q", lang, alias, other)
			}
			if other, ok := seen[alias]; ok {
				t.Errorf("%s alias %q is also the %s one", lang, alias, other)
			}
			seen[alias] = lang
			if c, ok := reg.Lookup(alias); !ok || c.Name != name {
				t.Errorf("%s alias %q finds %v, want %q", lang, alias, c, name)
			}
			if typed, _, ok := commands.Parse("!"+alias, []string{"!"}); !ok || typed != alias {
				t.Errorf("%s alias %q is not a command name one can type", lang, alias)
			}
		}
	}
	// They work in any room, whatever its language.
	if got := h.Reply(Ana, "!ayuda lang"); !strings.HasPrefix(got, "`!lang [<code> | reset]`") {
		t.Errorf("!ayuda lang: %q", got)
	}
	h.SetLang("de")
	if got := h.Reply(Ana, "!hilfe abstimmen"); !strings.HasPrefix(got, "`!vote") || !strings.Contains(got, "`!abstimmen`") {
		t.Errorf("!hilfe abstimmen: %q", got)
	}
}

// TestHelpGolden keeps !help in each shipped language in
// testdata/golden/help.<lang>.txt, for review (go test -update).
func TestHelpGolden(t *testing.T) {
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, Ana)
			h.SetLang(lang)
			var b strings.Builder
			for _, cmd := range []string{"!help", "!help vote", "!help lang", "!help motion", "!help nothing", "!help votr"} {
				b.WriteString("> " + cmd + "\n" + h.Reply(Ana, cmd) + "\n\n")
			}
			Golden(t, "help", lang, b.String())
		})
	}
}
