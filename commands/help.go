package commands

import (
	"context"
	"html"
	"slices"
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

// catalog is a command's Summary or Help, or a feature's Group: plain text
// (a % in it is literal), which the scan of the catalog tests finds there,
// as keys.
func catalog(text string) msg.Text { return msg.Plain(text) }

// code shows command names as code spans, joined by sep.
func code(sep string, names ...string) msg.Raw {
	var h []string
	for _, n := range names {
		h = append(h, "<code>"+html.EscapeString(n)+"</code>")
	}
	return msg.Raw{Body: "`" + strings.Join(names, "`"+sep+"`") + "`", HTML: strings.Join(h, html.EscapeString(sep))}
}

func (h *helpFeature) handle(ctx context.Context, r *Request) error {
	lang, err := r.Lang(ctx)
	if err != nil {
		return err
	}
	topic := strings.TrimLeft(strings.TrimSpace(r.Args), strings.Join(r.Config.CommandPrefixes, ""))
	if topic == "" {
		// Names by group: the syntax and summary of every command would be
		// a wall of text on a phone; `help <command>` has them.
		m := msg.F("**Quorum** — direct democracy for this room.")
		var group string
		var names []string
		var local []any // the commands' names in the room's language
		flush := func() {
			if len(names) > 0 {
				m = m.Append("%s: %s", catalog(group), msg.Raw{Body: strings.Join(names, " "), HTML: "<code>" + strings.Join(names, "</code> <code>") + "</code>"})
			}
			names = nil
		}
		for _, c := range h.d.registry.All() {
			for _, alias := range h.d.registry.AliasesIn(c, lang) { // !help's too
				local = append(local, msg.T("%s for %s", code("", r.Cmd(alias)), code("", r.Cmd(c.Name))))
			}
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
		if len(local) > 0 {
			m = m.Append("You can also type %s.", msg.List(", ", local...))
		}
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
		r.Reply(msg.F("`%s` — %s", r.Cmd(c.Name+" "+sub.Usage), catalog(sub.Summary)))
		return nil
	}
	if act, ok := find(c.Actions, subName); ok && subName != "" {
		r.Reply(msg.F("`%s` — %s", r.Cmd(c.Name+" "+c.Target+" "+act.Usage), catalog(act.Summary)))
		return nil
	}
	m := msg.F("`%s` — %s", r.Cmd(c.Name), catalog(c.Summary))
	if c.Usage != "" {
		m = msg.F("`%s` — %s", r.Cmd(c.Usage), catalog(c.Summary))
	}
	for _, sub := range c.Subcommands {
		m = m.Append("`%s` — %s", r.Cmd(c.Name+" "+sub.Usage), catalog(sub.Summary))
	}
	for _, act := range c.Actions {
		m = m.Append("`%s` — %s", r.Cmd(c.Name+" "+c.Target+" "+act.Usage), catalog(act.Summary))
	}
	if c.Help != "" {
		m = m.AppendText(catalog(c.Help))
	}
	if aliases := append(slices.Clone(c.Aliases), h.d.registry.AliasesIn(c, lang)...); len(aliases) > 0 {
		for i, alias := range aliases {
			aliases[i] = r.Cmd(alias)
		}
		m = m.Append("Also: %s", code(", ", aliases...))
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
