package commands_test

import (
	"context"
	"strings"
	"testing"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

// TestRefusalsInLanguage: what the core itself says (unknown commands and
// subcommands, a parser's error, the refusal of a long message) comes in
// the room's language; commands stay English.
func TestRefusalsInLanguage(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	h.SetLang("es")
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!ehco hi", Want: "No conozco `!ehco`. ¿Querías decir `!echo`? Envía `!help` para ver la lista."},
		{From: Ana, Cmd: "!widget zzzzzz", Want: "No conozco `!widget zzzzzz`. Prueba `!widget make <name>`, `!widget break`, `!widget extra`."},
		{From: Ana, Cmd: "!timey", Want: `No pude leer "foo" como una repetición. Prueba "week", "2 weeks", "martes" o "month".`},
	})
	h.SetLang("de")
	ExpectReplies(t, h, []ReplyCase{
		{From: Ana, Cmd: "!widget", Want: "Versuch `!widget make <name>`, `!widget break`, `!widget extra`."},
		{From: Ana, Cmd: "!timey", Want: `Ich konnte "foo" nicht als eine Wiederholung lesen. Versuch "week", "2 weeks", "Dienstag" oder "month".`},
		{From: Ana, Cmd: "!xyzzy", Want: "`!xyzzy` kenne ich nicht. Schick `!help` für die Liste der Befehle."},
	})
}

// TestAccentedAliases: a command or alias typed with accents or umlauts is
// that command; any other accented word is no command, as before.
func TestAccentedAliases(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	for typed, want := range map[string]string{"!Ayúda echo": "`!echo <text>`", "!hílfe echo": "`!echo <text>`", "!échó hi": "echo: hi"} {
		if got := h.Reply(Ana, typed); !strings.HasPrefix(got, want) {
			t.Errorf("%s: %q", typed, got)
		}
	}
	for _, body := range []string{"!héllo", "!ñandú hi", "! ayúda", "!ayúda\u200b", "!"} {
		if ok, err := h.A.HandleMessage(context.Background(), commands.Message{Room: Room, Sender: Ana, Event: h.NextEvent(), Body: body}); ok || err != nil {
			t.Errorf("%q handled: %v %v", body, ok, err)
		}
	}
	if out := h.Drain(); len(out) != 0 {
		t.Errorf("said %d things", len(out))
	}
}
