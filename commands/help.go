package commands

import (
	"context"
	"strings"

	"quorum/msg"
)

// helpFeature is !help: every command in one line each, or one in full.
type helpFeature struct{ a *Assembly }

func (h *helpFeature) commands() []*Command {
	return []*Command{{
		Name:    "help",
		Aliases: []string{"h", "commands"},
		Usage:   "help [command]",
		Summary: "list what I can do, or explain one command",
		Help:    "Without a command, lists all commands. With one, shows its usage and examples.",
		Examples: []string{
			"help",
			"help motion",
		},
		Handler: h.handle,
	}}
}

func (h *helpFeature) handle(_ context.Context, r *Request) error {
	topic := strings.TrimLeft(strings.TrimSpace(r.Args), strings.Join(r.Config.CommandPrefixes, ""))
	if topic == "" {
		// Names only: the full syntax of every command would be a wall of
		// text on a phone; `help <command>` has it.
		m := msg.F("**Quorum** — direct democracy for this room. Commands:")
		for _, c := range h.a.registry.All() {
			m = m.Append("`%s` — %s", r.Cmd(c.Name), c.Summary)
		}
		r.Reply(m.Append("Send `%s` for details and examples.", r.Cmd("help <command>")))
		return nil
	}
	name, _, _ := strings.Cut(topic, " ")
	c, ok := h.a.registry.Lookup(name)
	if !ok {
		r.Reply(h.a.unknown(r.Prefix, name))
		return nil
	}
	m := msg.F("`%s` — %s", r.Cmd(c.Usage), c.Summary)
	if c.Help != "" {
		m = m.Append("%s", c.Help)
	}
	if len(c.Aliases) > 0 {
		m = m.Append("Also: `%s`", r.Cmd(strings.Join(c.Aliases, "`, `"+r.Prefix)))
	}
	for i, ex := range c.Examples {
		if i == 0 {
			m = m.Append("**Examples**")
		}
		m = m.Append("`%s`", r.Cmd(ex))
	}
	r.Reply(m)
	return nil
}
