package commands

import (
	"context"
	"os"
	"regexp"
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

func FuzzParse(f *testing.F) {
	for _, s := range []string{"!help", "/motion --closes 48h x", "!", "!\x00", "!vote 1 yes"} {
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

func TestHelp(t *testing.T) {
	h := newHarness(t, "@ana:test")
	body := h.reply("@ana:test", "!help")
	for _, c := range h.a.Registry().All() {
		if c.Group != "" && !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(c.Group)+`: .*!`+c.Name+`\b`).MatchString(body) {
			t.Errorf("help lacks %q under %q:\n%s", c.Name, c.Group, body)
		}
	}
	if len(body) > 1000 {
		t.Errorf("help is %d bytes long: too long for a phone", len(body))
	}
	if got := h.reply("@ana:test", "!help motion"); !strings.Contains(got, "!motion [--threshold T]") {
		t.Errorf("help motion lacks the usage:\n%s", got)
	}
	if got := h.reply("@ana:test", "/help help"); !strings.Contains(got, "/help motion") {
		t.Errorf("help help should show examples with the user's prefix:\n%s", got)
	}
	if got := h.reply("@ana:test", "!help nosuch"); !strings.Contains(got, "I don't know `!nosuch`") {
		t.Errorf("help of unknown command: %s", got)
	}
}

func TestUnknownCommandSuggests(t *testing.T) {
	h := newHarness(t, "@ana:test")
	if got := h.reply("@ana:test", "!hlep"); !strings.Contains(got, "Did you mean `!help`?") {
		t.Errorf("got %q", got)
	}
	if got := h.reply("@ana:test", "!frobnicate"); strings.Contains(got, "Did you mean") {
		t.Errorf("suggested for a word far from any command: %q", got)
	}
}

func TestCommandHandledOnce(t *testing.T) {
	h := newHarness(t, "@ana:test")
	evt := h.send("@ana:test", "!help")
	h.sendAs("@ana:test", evt, "!help") // a redelivery of the same event
	if out := h.drain(); len(out) != 1 {
		t.Fatalf("redelivered command answered %d times", len(out))
	}
}

func TestNotACommand(t *testing.T) {
	h := newHarness(t, "@ana:test")
	ok, err := h.a.HandleMessage(context.Background(), Message{Room: testRoom, Sender: "@ana:test", Event: "$x", Body: "hello !help"})
	if err != nil || ok {
		t.Fatalf("plain text treated as command: %v %v", ok, err)
	}
	if out := h.drain(); len(out) != 0 {
		t.Fatalf("plain text answered: %+v", out)
	}
}

// TestREADMEListsEveryCommand keeps the README's command reference in step
// with the registry: every command's usage line must appear in it.
func TestREADMEListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	for _, c := range h.a.Registry().All() {
		for _, usage := range c.Usages() {
			if !strings.Contains(string(readme), "`!"+usage+"`") {
				t.Errorf("README.md does not document `!%s`", usage)
			}
		}
	}
}

func TestTooLongCommand(t *testing.T) {
	h := newHarness(t, "@ana:test")
	huge := strings.Repeat("x", maxCommand)
	if got := h.reply("@ana:test", "!motion "+huge); !strings.Contains(got, "too long for a command") {
		t.Errorf("huge motion: %q", got)
	}
	h.send("@ana:test", "!"+huge) // no command name is that long: not a command
	if out := h.drain(); len(out) != 0 {
		t.Errorf("a huge word was answered: %d messages", len(out))
	}
	if got := h.reply("@ana:test", "!help "+strings.Repeat("y", 5000)); len(got) > 200 {
		t.Errorf("a huge help topic was echoed back (%d bytes)", len(got))
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

// TestSubcommands checks the refusals and help that the registry makes from
// subcommands, including those another feature adds (`remind duty`).
func TestSubcommands(t *testing.T) {
	h := newHarness(t, "@ana:test")
	for _, tc := range []struct{ cmd, want string }{
		{"!remind", "Try `!remind me <when> : <text>`, `!remind list`, `!remind cancel N`, `!remind duty on|off [<lead time>]`, `!remind sessions on|off [<lead time>]`."},
		{"!remind lsit", "I don't know `!remind lsit`. Did you mean `!remind list`? Try `!remind me <when> : <text>`,"},
		{"!remind frobnicate", "I don't know `!remind frobnicate`. Try `!remind me"},
		{"!swap accept", "Which swap? Its number is on the request, e.g. `!swap accept 1`."},
		{"!study lsit", "I don't know `!study lsit`. Did you mean `!study list`?"},
		{"!help remind list", "`!remind list` — your reminders, by direct message"},
		{"!help roster skip", "`!roster <name> skip <date>` — skip the turn on a day"},
	} {
		got := h.reply("@ana:test", tc.cmd)
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	help := h.reply("@ana:test", "!help roster")
	for _, want := range []string{"`!roster new <name> every", "`!roster <name> away @user <from> <to>` — pass a member over"} {
		if !strings.Contains(help, want) {
			t.Errorf("!help roster: %q lacks %q", help, want)
		}
	}
}
