package commands

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	prefixes := []string{"!", "/"}
	for _, tc := range []struct {
		body, name, args string
		ok               bool
	}{
		{"!help", "help", "", true},
		{"  /help motion ", "help", "motion", true},
		{"!Motion --closes 48h Pay the rent\nsecond line", "motion", "--closes 48h Pay the rent\nsecond line", true},
		{"!", "", "", false},
		{"! help", "", "", false},
		{"!!help", "", "", false},
		{"hello !help", "", "", false},
		{"!-x", "", "", false},
		{"!héllo", "", "", false},
		{"!" + strings.Repeat("a", 33), "", "", false},
	} {
		name, args, ok := Parse(tc.body, prefixes)
		if name != tc.name || args != tc.args || ok != tc.ok {
			t.Errorf("Parse(%q) = %q, %q, %v; want %q, %q, %v", tc.body, name, args, ok, tc.name, tc.args, tc.ok)
		}
	}
}

func TestIsWord(t *testing.T) {
	for _, ok := range []string{"a", "z", "A", "Z", "0", "9", "a-b", "x-", "Motion2", strings.Repeat("z", 32)} {
		if !isWord(ok) {
			t.Errorf("isWord(%q) = false", ok)
		}
	}
	// The characters either side of each accepted range, a leading dash,
	// nothing, and one character too many.
	for _, bad := range []string{"`", "{", "@", "[", "/", ":", "_", "-a", "", "a b", "é", strings.Repeat("z", 33)} {
		if isWord(bad) {
			t.Errorf("isWord(%q) = true", bad)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"!help", "/motion --closes 48h x", "!vote 1 yes", "  !help  ", "!help\tmotion", "!help\nmotion", "!help\r\nx",
		"!", "/", "", " ", "!\x00", "! help", "!!help", "!/help", "/!help", "!-x", "!a-", "!é", "!\xff",
		"!" + strings.Repeat("a", 32), "!" + strings.Repeat("a", 33) + " x", "hello !help", "!HELP ME", "!9", "!_x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		name, args, ok := Parse(body, []string{"!", "/"})
		if !ok {
			return
		}
		if !isWord(name) || name != strings.ToLower(name) {
			t.Fatalf("bad name %q", name)
		}
		if !strings.Contains(strings.ToLower(body), name) || !strings.Contains(body, args) {
			t.Fatalf("parts not from body: %q %q", name, args)
		}
		// The body is a prefix, the name, and the arguments after white
		// space (or nothing).
		trimmed := strings.TrimSpace(body)
		rest := strings.TrimLeft(trimmed[1:], "")
		if !strings.EqualFold(rest[:len(name)], name) || !strings.HasPrefix(trimmed, "!") && !strings.HasPrefix(trimmed, "/") {
			t.Fatalf("%q: name %q does not follow the prefix", body, name)
		}
		if after := rest[len(name):]; args != strings.TrimSpace(after) || after != "" && !isSpace(rune(after[0])) {
			t.Fatalf("%q: args %q do not follow the name", body, args)
		}
	})
}

func TestRegistry(t *testing.T) {
	noop := func(context.Context, *Request) error { return nil }
	_, err := NewRegistry(&Command{Name: "a", Handler: noop}, &Command{Name: "b", Aliases: []string{"a"}, Handler: noop})
	if err == nil {
		t.Fatal("duplicate alias accepted")
	}
	reg, err := NewRegistry(&Command{Name: "motion", Aliases: []string{"m"}, Handler: noop}, &Command{Name: "motions", Handler: noop}, &Command{Name: "help", Handler: noop})
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := reg.Lookup("M"); !ok || c.Name != "motion" {
		t.Errorf("alias lookup failed: %v %v", c, ok)
	}
	for _, tc := range []struct{ typed, want string }{
		{"motoin", "motion"},
		{"helpp", "help"},
		{"hlp", "help"},
		{"mot", "motion"},
		{"xyzzy", ""},
		{"z", ""},
	} {
		got, ok := reg.Suggest(tc.typed)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Suggest(%q) = %q, %v; want %q", tc.typed, got, ok, tc.want)
		}
	}
}

func TestUsages(t *testing.T) {
	c := &Command{Name: "roster", Usage: "roster <name> [N]", Target: "<name>",
		Subcommands: []*Command{
			{Name: "new", Usage: "new <name> every …"},
			{Name: "duty", Subcommands: []*Command{{Name: "on", Usage: "on [lead]"}, {Name: "off", Usage: "off"}}},
		},
		Actions: []*Command{{Name: "add", Usage: "add @user"}},
	}
	want := []string{"roster <name> [N]", "roster new <name> every …", "roster duty on [lead]", "roster duty off", "roster <name> add @user"}
	if got := c.Usages(); !slices.Equal(got, want) {
		t.Errorf("Usages() = %q, want %q", got, want)
	}
	if got := (&Command{Name: "x"}).Usages(); len(got) != 0 {
		t.Errorf("no usage: %q", got)
	}
}

func TestResolve(t *testing.T) {
	sub := &Command{Name: "me", Aliases: []string{"m"}}
	act := &Command{Name: "add"}
	c := &Command{Name: "roster", Subcommands: []*Command{sub}, Actions: []*Command{act}}
	for _, tc := range []struct {
		args         string
		run          *Command
		target, rest string
	}{
		{"", c, "", ""},
		{"me in 2h : x", sub, "", "in 2h : x"},
		{"M  in 2h", sub, "", "in 2h"},
		{"me", sub, "", ""},
		{"minutes add @dan", act, "minutes", "@dan"},
		{"minutes ADD", act, "minutes", ""},
		{"minutes", c, "", "minutes"},
		{"add", c, "", "add"},
		{"minutes remove @dan", c, "", "minutes remove @dan"},
		{"  minutes\tadd\n@dan ", act, "minutes", "@dan"},
	} {
		run, target, rest := c.resolve(tc.args)
		if run != tc.run || target != tc.target || rest != tc.rest {
			t.Errorf("resolve(%q) = %s, %q, %q; want %s, %q, %q", tc.args, run.Name, target, rest, tc.run.Name, tc.target, tc.rest)
		}
	}
}

func TestCutWord(t *testing.T) {
	for _, tc := range []struct{ in, word, rest string }{
		{"", "", ""}, {"a", "a", ""}, {" a ", "a", ""}, {"a b c", "a", "b c"}, {"a\tb", "a", "b"}, {"a\r\n b ", "a", "b"},
	} {
		if word, rest := cutWord(tc.in); word != tc.word || rest != tc.rest {
			t.Errorf("cutWord(%q) = %q, %q; want %q, %q", tc.in, word, rest, tc.word, tc.rest)
		}
	}
}

// TestRegistryExtensions: a command that has nothing but subcommands adds
// them to the command of its name; anything more makes it a command of its
// own, which then clashes.
func TestRegistryExtensions(t *testing.T) {
	noop := func(context.Context, *Request) error { return nil }
	base := func() *Command {
		return &Command{Name: "remind", Summary: "reminders", Subcommands: []*Command{{Name: "me", Usage: "me"}}}
	}
	ext := func() *Command {
		return &Command{Name: "remind", Subcommands: []*Command{{Name: "duty", Usage: "duty"}}}
	}
	reg, err := NewRegistry(base(), ext())
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := reg.Lookup("remind"); len(c.Subcommands) != 2 || c.Subcommands[1].Name != "duty" || len(reg.All()) != 1 {
		t.Errorf("extension not added: %+v", c)
	}
	if _, err := NewRegistry(ext()); err == nil || err.Error() != `subcommands for "remind", which no feature has` {
		t.Errorf("extension of nothing: %v", err)
	}
	for name, change := range map[string]func(c *Command){
		"a handler":      func(c *Command) { c.Handler = noop },
		"a usage":        func(c *Command) { c.Usage = "remind" },
		"a summary":      func(c *Command) { c.Summary = "more" },
		"an alias":       func(c *Command) { c.Aliases = []string{"rem"} },
		"an action":      func(c *Command) { c.Actions = []*Command{{Name: "x"}} },
		"no subcommands": func(c *Command) { c.Subcommands = nil },
	} {
		e := ext()
		change(e)
		if _, err := NewRegistry(base(), e); err == nil || !strings.Contains(err.Error(), `"remind" registered twice`) {
			t.Errorf("with %s: %v, want a clash", name, err)
		}
	}
}

func TestNearest(t *testing.T) {
	names := []string{"motion", "motions", "help", "h", "bat", "cab", "vote"}
	for _, tc := range []struct{ typed, want string }{
		{"motoin", "motion"}, {"motio", "motion"}, {"mot", "motion"}, {"MOTION", "motion"}, {"motionss", "motions"},
		{"hlp", "help"}, {"hepl", "help"}, {"helpme", "help"}, {"helpmee", ""}, {"hxyz", ""}, {"hl", ""}, {"h", ""}, {"mo", ""},
		{"cat", "bat"}, {"vite", "vote"}, {"vte", "vote"}, {"vot", "vote"}, {"xote", "vote"}, {"xxte", "vote"}, {"xxxe", ""},
		{"", ""}, {"bxy", ""}, {"bay", "bat"},
	} {
		got, ok := nearest(tc.typed, names)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("nearest(%q) = %q, %v; want %q", tc.typed, got, ok, tc.want)
		}
	}
}

func TestSooner(t *testing.T) {
	var none time.Time
	early, late := time.Unix(100, 0), time.Unix(200, 0)
	for _, tc := range []struct{ a, b, want time.Time }{
		{none, none, none}, {none, late, late}, {early, none, early}, {early, late, early}, {late, early, early},
	} {
		if got := Sooner(tc.a, tc.b); !got.Equal(tc.want) {
			t.Errorf("Sooner(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
