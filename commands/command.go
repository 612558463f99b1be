// Package commands holds the assembly's rules: what each command means, who
// may do what, how votes are counted, when things fall due. It knows nothing
// of HTTP, sync or encryption: package bot feeds it events (a command, a
// reaction, a redaction, a member leaving, the clock) and sends what it
// queues in the outbox. Its state lives in package store.
//
// Every event is handled in one transaction together with the record that it
// was handled and the messages it causes, so a crash at any moment neither
// loses nor repeats anything.
package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"
)

// Command is one bot command: its name, help and handler in one value, so
// that the help can never drift from what exists.
type Command struct {
	Name    string
	Aliases []string
	// Usage is the syntax, without prefix: "motion [--closes WHEN] <text>".
	// A command with subcommands may leave it empty: it is then made of
	// theirs.
	Usage string
	// Summary is the one line shown by !help.
	Summary string
	// Help is the longer text shown by !help <command>; Examples follow it.
	Help     string
	Examples []string
	// Handler runs the command. With subcommands, it runs when the
	// arguments choose none of them; nil means that is a mistake, answered
	// with the list of subcommands.
	Handler func(ctx context.Context, r *Request) error
	// Prepare, if set, runs before the handler and outside its write
	// transaction: slow work that only reads (rendering and signing the
	// minutes) must not hold the database for everyone. It may keep its
	// result in Request.Prepared; a refusal here is answered as usual.
	Prepare func(ctx context.Context, r *Request) error
	// Subcommands are chosen by the first word of the arguments, as in
	// `remind me …`; Actions by the second, after a word that names a thing
	// (Request.Target), as in `roster minutes add @dan` or `study 3 move …`.
	Subcommands []*Command
	Actions     []*Command
	// Target is how usage lines write the word an action acts on: "<name>",
	// "N".
	Target string
	// Group is the heading !help lists the command under (its feature's).
	Group string
}

// Usages lists c's syntax, without prefix: its own usage, then its
// subcommands' and its actions', each in full ("roster <name> add @user").
func (c *Command) Usages() []string {
	var out []string
	if c.Usage != "" {
		out = append(out, c.Usage)
	}
	for _, sub := range c.Subcommands {
		for _, u := range sub.Usages() {
			out = append(out, c.Name+" "+u)
		}
	}
	for _, act := range c.Actions {
		out = append(out, c.Name+" "+c.Target+" "+act.Usage)
	}
	return out
}

// find returns the command in list called name (case-insensitive), by its
// name or an alias.
func find(list []*Command, name string) (*Command, bool) {
	name = strings.ToLower(name)
	for _, c := range list {
		if c.Name == name || slices.Contains(c.Aliases, name) {
			return c, true
		}
	}
	return nil, false
}

// resolve chooses what runs for args: a subcommand named by the first
// word, an action named by the second (the first is then the target), or
// c itself. It returns the chosen command, the target and the arguments
// left.
func (c *Command) resolve(args string) (run *Command, target, rest string) {
	first, afterFirst := cutWord(args)
	if sub, ok := find(c.Subcommands, first); ok && first != "" {
		return sub.resolve(afterFirst)
	}
	second, afterSecond := cutWord(afterFirst)
	if act, ok := find(c.Actions, second); ok && second != "" {
		return act, first, afterSecond
	}
	return c, "", args
}

// cutWord splits off the first word of s.
func cutWord(s string) (word, rest string) {
	s = strings.TrimSpace(s)
	end := strings.IndexFunc(s, isSpace)
	if end < 0 {
		return s, ""
	}
	return s[:end], strings.TrimSpace(s[end:])
}

// Registry finds commands by name or alias.
type Registry struct {
	list   []*Command
	byName map[string]*Command
	// aliases are the commands' names in other languages (Aliases), by
	// command and language, for !help.
	aliases map[*Command]map[string][]string
}

// NewRegistry indexes cmds. Two commands claiming one name is a programming
// error, caught by the tests.
func NewRegistry(cmds ...*Command) (*Registry, error) {
	r := &Registry{byName: map[string]*Command{}}
	var extensions []*Command
	for _, c := range cmds {
		if c.extends() {
			extensions = append(extensions, c)
			continue
		}
		for _, name := range append([]string{c.Name}, c.Aliases...) {
			if _, dup := r.byName[name]; dup {
				return nil, fmt.Errorf("command name %q registered twice", name)
			}
			r.byName[name] = c
		}
		r.list = append(r.list, c)
	}
	for _, ext := range extensions {
		base, ok := r.byName[ext.Name]
		if !ok {
			return nil, fmt.Errorf("subcommands for %q, which no feature has", ext.Name)
		}
		base.Subcommands = append(base.Subcommands, ext.Subcommands...)
	}
	if err := r.addAliases(); err != nil {
		return nil, err
	}
	return r, nil
}

// extends says whether c has nothing but subcommands: it then adds them to
// the command of that name, another feature's (`remind duty` belongs to
// rosters, `remind` to reminders).
func (c *Command) extends() bool {
	return c.Handler == nil && c.Usage == "" && c.Summary == "" && len(c.Aliases) == 0 && len(c.Actions) == 0 && len(c.Subcommands) > 0
}

// Lookup returns the command called name (case-insensitive).
func (r *Registry) Lookup(name string) (*Command, bool) {
	c, ok := r.byName[strings.ToLower(name)]
	return c, ok
}

// All lists the commands in registration order.
func (r *Registry) All() []*Command { return r.list }

// Suggest returns the known name nearest to name, if it is near enough to
// be a typo.
func (r *Registry) Suggest(name string) (string, bool) {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	near, ok := nearest(name, names)
	if !ok {
		return "", false
	}
	return r.byName[near].Name, true
}

// nearest returns the name in names nearest to typed, if it is near enough
// to be a typo.
func nearest(typed string, names []string) (string, bool) {
	typed = strings.ToLower(typed)
	best, bestDist := "", 1<<30
	names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return len(n) < 3 }) // short aliases match everything short
	slices.Sort(names)                                                                        // deterministic among equals
	for _, n := range names {
		d := levenshtein.ComputeDistance(typed, n)
		if strings.HasPrefix(n, typed) && len(typed) >= 3 {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	limit := 2
	if len(typed) <= 3 {
		limit = 1
	}
	if best == "" || bestDist > limit {
		return "", false
	}
	return best, true
}

// names lists the names and aliases of cmds.
func names(cmds []*Command) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, c.Name)
		out = append(out, c.Aliases...)
	}
	return out
}

// Parse splits a message body into a command name and its arguments, if the
// body starts with one of prefixes directly followed by a word.
func Parse(body string, prefixes []string) (name, args string, ok bool) {
	body = strings.TrimSpace(body)
	for _, p := range prefixes {
		rest, found := strings.CutPrefix(body, p)
		if !found || rest == "" {
			continue
		}
		end := strings.IndexFunc(rest, isSpace)
		if end < 0 {
			end = len(rest)
		}
		name = rest[:end]
		if !isWord(name) {
			continue
		}
		return strings.ToLower(name), strings.TrimSpace(rest[end:]), true
	}
	return "", "", false
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// isWord accepts command names: letters, digits and dashes, not starting with
// a dash, at most 32 characters.
func isWord(s string) bool {
	if s == "" || len(s) > 32 || s[0] == '-' {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
