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
	Usage string
	// Summary is the one line shown by !help.
	Summary string
	// Help is the longer text shown by !help <command>; Examples follow it.
	Help     string
	Examples []string
	Handler  func(ctx context.Context, r *Request) error
	// Group is the heading !help lists the command under (set from its
	// feature by the assembly).
	Group string
}

// Registry finds commands by name or alias.
type Registry struct {
	list   []*Command
	byName map[string]*Command
}

// NewRegistry indexes cmds. Two commands claiming one name is a programming
// error, caught by the tests.
func NewRegistry(cmds ...*Command) (*Registry, error) {
	r := &Registry{byName: map[string]*Command{}}
	for _, c := range cmds {
		for _, name := range append([]string{c.Name}, c.Aliases...) {
			if _, dup := r.byName[name]; dup {
				return nil, fmt.Errorf("command name %q registered twice", name)
			}
			r.byName[name] = c
		}
		r.list = append(r.list, c)
	}
	return r, nil
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
	name = strings.ToLower(name)
	best, bestDist := "", 1<<30
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		if len(n) >= 3 { // short aliases match everything short
			names = append(names, n)
		}
	}
	slices.Sort(names) // deterministic among equals
	for _, n := range names {
		d := levenshtein.ComputeDistance(name, n)
		if strings.HasPrefix(n, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestDist {
			best, bestDist = n, d
		}
	}
	limit := 2
	if len(name) <= 3 {
		limit = 1
	}
	if best == "" || bestDist > limit {
		return "", false
	}
	return r.byName[best].Name, true
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
