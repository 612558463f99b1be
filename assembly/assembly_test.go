package assembly_test

// newHarness is the whole assembly in the test room, with members.
import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"
	"maunium.net/go/mautrix/id"

	"quorum/assembly"
	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/record"
)

func newHarness(t *testing.T, members ...id.UserID) *Harness {
	t.Helper()
	return NewHarness(t, assembly.Features, members...)
}

func TestHelp(t *testing.T) {
	h := newHarness(t, "@ana:test")
	body := h.Reply("@ana:test", "!help")
	for _, c := range h.A.Registry().All() {
		if c.Group != "" && !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(c.Group)+`: .*!`+c.Name+`\b`).MatchString(body) {
			t.Errorf("help lacks %q under %q:\n%s", c.Name, c.Group, body)
		}
	}
	if len(body) > 1000 {
		t.Errorf("help is %d bytes long: too long for a phone", len(body))
	}
	if got := h.Reply("@ana:test", "!help motion"); !strings.Contains(got, "!motion [--threshold T]") {
		t.Errorf("help motion lacks the usage:\n%s", got)
	}
	if got := h.Reply("@ana:test", "/help help"); !strings.Contains(got, "/help motion") {
		t.Errorf("help help should show examples with the user's prefix:\n%s", got)
	}
	if got := h.Reply("@ana:test", "!help nosuch"); !strings.Contains(got, "I don't know `!nosuch`") {
		t.Errorf("help of unknown command: %s", got)
	}
}

func TestUnknownCommandSuggests(t *testing.T) {
	h := newHarness(t, "@ana:test")
	if got := h.Reply("@ana:test", "!hlep"); !strings.Contains(got, "Did you mean `!help`?") {
		t.Errorf("got %q", got)
	}
	if got := h.Reply("@ana:test", "!frobnicate"); strings.Contains(got, "Did you mean") {
		t.Errorf("suggested for a word far from any command: %q", got)
	}
}

func TestCommandHandledOnce(t *testing.T) {
	h := newHarness(t, "@ana:test")
	evt := h.Send("@ana:test", "!help")
	h.SendAs("@ana:test", evt, "!help") // a redelivery of the same event
	if out := h.Drain(); len(out) != 1 {
		t.Fatalf("redelivered command answered %d times", len(out))
	}
}

func TestNotACommand(t *testing.T) {
	h := newHarness(t, "@ana:test")
	ok, err := h.A.HandleMessage(context.Background(), commands.Message{Room: Room, Sender: "@ana:test", Event: "$x", Body: "hello !help"})
	if err != nil || ok {
		t.Fatalf("plain text treated as command: %v %v", ok, err)
	}
	if out := h.Drain(); len(out) != 0 {
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
	for _, c := range h.A.Registry().All() {
		for _, usage := range c.Usages() {
			if !strings.Contains(string(readme), "`!"+usage+"`") {
				t.Errorf("README.md does not document `!%s`", usage)
			}
		}
	}
}

func TestTooLongCommand(t *testing.T) {
	h := newHarness(t, "@ana:test")
	huge := strings.Repeat("x", commands.MaxCommand)
	if got := h.Reply("@ana:test", "!motion "+huge); !strings.Contains(got, "too long for a command") {
		t.Errorf("huge motion: %q", got)
	}
	h.Send("@ana:test", "!"+huge) // no command name is that long: not a command
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("a huge word was answered: %d messages", len(out))
	}
	if got := h.Reply("@ana:test", "!help "+strings.Repeat("y", 5000)); len(got) > 200 {
		t.Errorf("a huge help topic was echoed back (%d bytes)", len(got))
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
		got := h.Reply("@ana:test", tc.cmd)
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.cmd, got, tc.want)
		}
	}
	help := h.Reply("@ana:test", "!help roster")
	for _, want := range []string{"`!roster new <name> every", "`!roster <name> away @user <from> <to>` — pass a member over"} {
		if !strings.Contains(help, want) {
			t.Errorf("!help roster: %q lacks %q", help, want)
		}
	}
}

// TestRecordKinds: every kind of decision lands in the chain, in order, and
// the chain verifies.
func TestRecordKinds(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	h.Env.Config.Delegates.PowerLevels = map[string]int{"negotiator": 50}
	h.Rooms.Power[Bot] = 100
	vote := func(n int, choices ...string) {
		for i, voter := range []id.UserID{Ana, Ben, Chi} {
			h.Send(voter, fmt.Sprintf("!vote %d %s", n, choices[i]))
		}
		h.Drain()
		h.AdvanceTo(h.Clock.Now().Add(30 * time.Second)) // the settle time after everyone voted
	}
	h.SendAndDrain(Ana, "!delegate @ben:test negotiator : Negotiate the rota")
	vote(1, "yes", "yes", "yes")
	h.SendAndDrain(Ana, "!roster new minutes every week from monday 18:00 : @ana @ben:test @chi")
	h.SendAndDrain(Chi, "!recall @ben:test : Changed our mind")
	vote(2, "yes", "no", "yes")
	entries, err := h.Env.Store.Records().Between(context.Background(), Room, h.Clock.Now().Add(-time.Hour), h.Clock.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range entries {
		kinds = append(kinds, e.Kind)
	}
	want := "motion.result delegation.granted roster.change motion.result delegation.recalled"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("record kinds = %s\nwant %s", got, want)
	}
	if err := record.VerifyRoom(string(Room), entries); err != nil {
		t.Errorf("chain: %v", err)
	}
}

// TestControlCharactersRefused: a command carrying control characters or a
// text-direction override (which make text read differently from what it
// says, in the room and in the signed minutes) is refused before it acts.
func TestControlCharactersRefused(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	for _, body := range []string{"!motion Pay the \u202erent", "!motion Pay\x1b[2J the rent", "!motion Pay the \u0085rent"} {
		if got := h.Reply(Ana, body); !strings.Contains(got, "invisible control characters") {
			t.Errorf("%q: %q", body, got)
		}
	}
	if list, err := h.Env.Store.Motions().Pending(t.Context(), Room); err != nil || len(list) != 0 {
		t.Fatalf("a command with control characters opened a motion: %v %v", list, err)
	}
}

// TestHandledForgottenWhileRunning: the record of handled events is pruned
// by the scheduler, not only at start, and keeps what the homeserver may
// still redeliver.
func TestHandledForgottenWhileRunning(t *testing.T) {
	h := newHarness(t, Ana)
	evt := h.Send(Ana, "!help")
	h.Drain()
	known := func() bool {
		t.Helper()
		fresh, err := h.Env.Store.Handled().Mark(t.Context(), evt, Room, h.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return !fresh
	}
	h.Due()
	h.Clock.Advance(commands.HandledKept - time.Hour)
	h.Due()
	if !known() {
		t.Fatal("an event handled less than 90 days ago was forgotten")
	}
	h.Clock.Advance(2 * time.Hour)
	h.Due()
	if known() {
		t.Fatal("an event handled more than 90 days ago is still remembered")
	}
}

// TestCommandDescriptions: every command is described (MSC4391), validly,
// from the registry; what a client that read a description sends in
// structured form turns back into the command line typed, and runs.
func TestCommandDescriptions(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	list := h.A.Descriptions("en")
	if len(list) != len(h.A.Registry().All()) {
		t.Fatalf("%d descriptions for %d commands", len(list), len(h.A.Registry().All()))
	}
	byName := map[string]*cmdschema.EventContent{}
	for _, d := range list {
		if err := d.Validate(); err != nil {
			t.Errorf("%s: %v", d.Command, err)
		}
		byName[d.Command] = d
	}
	if d := byName["motion"]; d == nil || !strings.Contains(d.Description.Text[0].Body, "propose a motion") || !strings.Contains(d.Description.Text[0].Body, "motion [--threshold T]") {
		t.Errorf("motion's description: %+v", d)
	}
	for _, typed := range []string{"/motion --closes 48h Pay the rent", "/motions", "/poll Which day? : Monday | Tuesday"} {
		name := strings.Fields(typed)[0][1:]
		content, err := byName[name].ParseInput(Bot, []string{"/"}, typed)
		if err != nil || content == nil {
			t.Fatalf("%s: a client would not parse it: %v", typed, err)
		}
		line, ok := commands.Structured(content.MSC4391BotCommand, "!")
		if want := "!" + typed[1:]; !ok || line != want {
			t.Errorf("%s: structured form read as %q, want %q", typed, line, want)
		}
	}
	if _, ok := commands.Structured(&event.MSC4391BotCommandInput{Command: "motion", Arguments: []byte(`{"args": 3}`)}, "!"); ok {
		t.Error("a structured command with a bad argument was accepted")
	}
	if _, ok := commands.Structured(&event.MSC4391BotCommandInput{Command: "mo tion"}, "!"); ok {
		t.Error("a structured command with a bad name was accepted")
	}
	first, again := h.A.DescriptionsVersion("en"), h.A.DescriptionsVersion("en")
	if first != again {
		t.Error("the version of the same descriptions differs")
	}
	if h.A.DescriptionsVersion("es") == h.A.DescriptionsVersion("en") {
		t.Error("the Spanish descriptions have the English ones' version")
	}
	// In Spanish, what is translated is; the commands stay English.
	es := h.A.Descriptions("es")
	for _, d := range es {
		if d.Command == "lang" && !strings.HasPrefix(d.Description.Text[0].Body, "muestra o elige el idioma en que hablo aquí — lang [<code> | reset]") {
			t.Errorf("lang in Spanish: %q", d.Description.Text[0].Body)
		}
		if d.Command == "lang" && d.Parameters[0].Description.Text[0].Body != "lo que sigue al comando, como en !help lang" {
			t.Errorf("lang's parameter in Spanish: %q", d.Parameters[0].Description.Text[0].Body)
		}
	}
}
