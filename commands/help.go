package commands

import (
	"context"
	"html"
	"strings"

	"quorum/msg"
)

// helpFeature is !help: every command in one line each, or one in full.
type helpFeature struct{ d *Dispatcher }

// Group implements Feature.
func (h *helpFeature) Group() string { return "" } // !help does not list itself

// Commands implements Feature.
func (h *helpFeature) Commands() []*Command {
	return []*Command{{
		Name:    "help",
		Aliases: []string{"h", "commands"},
		Usage:   "help [<command> [<subcommand>]]",
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
		// Names by group: the syntax and summary of every command would be
		// a wall of text on a phone; `help <command>` has them.
		m := msg.F("**Quorum** — direct democracy for this room.")
		var group string
		var names []string
		flush := func() {
			if len(names) > 0 {
				m = m.Append("%s: %s", msg.T(group), msg.Raw{Body: strings.Join(names, " "), HTML: "<code>" + strings.Join(names, "</code> <code>") + "</code>"})
			}
			names = nil
		}
		for _, c := range h.d.registry.All() {
			if c.Group == "" {
				continue
			}
			if c.Group != group {
				flush()
				group = c.Group
			}
			names = append(names, html.EscapeString(r.Cmd(c.Name)))
		}
		flush()
		r.Reply(m.Append("Send `%s` for what one does, with examples. Vote by reacting on a motion: 👍 👎 🤷.", r.Cmd("help <command>")))
		return nil
	}
	name, subName := cutWord(topic)
	c, ok := h.d.registry.Lookup(name)
	if !ok {
		r.Reply(h.d.unknown(r.Prefix, name))
		return nil
	}
	if sub, ok := find(c.Subcommands, subName); ok && subName != "" {
		r.Reply(msg.F("`%s` — %s", r.Cmd(c.Name+" "+sub.Usage), msg.T(sub.Summary)))
		return nil
	}
	if act, ok := find(c.Actions, subName); ok && subName != "" {
		r.Reply(msg.F("`%s` — %s", r.Cmd(c.Name+" "+c.Target+" "+act.Usage), msg.T(act.Summary)))
		return nil
	}
	m := msg.F("`%s` — %s", r.Cmd(c.Name), msg.T(c.Summary))
	if c.Usage != "" {
		m = msg.F("`%s` — %s", r.Cmd(c.Usage), msg.T(c.Summary))
	}
	for _, sub := range c.Subcommands {
		m = m.Append("`%s` — %s", r.Cmd(c.Name+" "+sub.Usage), msg.T(sub.Summary))
	}
	for _, act := range c.Actions {
		m = m.Append("`%s` — %s", r.Cmd(c.Name+" "+c.Target+" "+act.Usage), msg.T(act.Summary))
	}
	if c.Help != "" {
		m = m.AppendText(msg.T(c.Help))
	}
	if len(c.Aliases) > 0 {
		var aliases []any
		for _, alias := range c.Aliases {
			aliases = append(aliases, msg.Raw{Body: "`" + r.Cmd(alias) + "`", HTML: "<code>" + html.EscapeString(r.Cmd(alias)) + "</code>"})
		}
		m = m.Append("Also: %s", msg.List(", ", aliases...))
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
