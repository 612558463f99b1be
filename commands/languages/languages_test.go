package languages_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"quorum/commands"
	. "quorum/commands/commandstest"
	"quorum/commands/languages"
	"quorum/config"
	"quorum/msg"
)

// notify is a toy feature: !notify DMs its sender, as features do about a
// room (a receipt, a reminder).
type notify struct{}

func (notify) Group() string { return "" }

func (notify) Commands() []*commands.Command {
	return []*commands.Command{{Name: "notify", Handler: func(_ context.Context, r *commands.Request) error {
		r.DM(r.Sender, msg.F("Also: %s", "x"))
		return nil
	}}}
}

func harness(t *testing.T) *Harness {
	h := NewHarness(t, func(env *commands.Env, _ zerolog.Logger) []commands.Feature {
		return []commands.Feature{languages.New(env), notify{}}
	}, Ana, Ben)
	h.Rooms.Power[Ana] = 50
	return h
}

func TestShow(t *testing.T) {
	h := harness(t)
	Expect(t, h, Ben, "!lang", "I speak English here. I can speak `de` Deutsch, `en` English, `es` Español; a moderator changes it with `!lang es`.")
	h.SetLang("de")
	Expect(t, h, Ben, "!sprache", "Hier spreche ich Deutsch. Ich kann `de` Deutsch, `en` English, `es` Español; eine Moderator*in ändert das mit `!lang es`.")
}

func TestModeratorSets(t *testing.T) {
	h := harness(t)
	Expect(t, h, Ana, "!lang es", "Vale, a partir de ahora hablo español en esta sala. Los comandos siguen siendo los mismos.")
	Expect(t, h, Ben, "!lang", "Aquí hablo español. Sé hablar `de` Deutsch, `en` English, `es` Español; un/a moderador/a lo cambia con `!lang es`.")
	Expect(t, h, Ana, "!idioma DE-de", "OK, ab jetzt spreche ich in diesem Raum Deutsch. Die Befehle bleiben gleich.")
}

func TestNonModeratorRefused(t *testing.T) {
	h := harness(t)
	Expect(t, h, Ben, "!lang de", "Only a moderator can change the language I speak in this room. You can choose your own for our direct chat: send `!lang de` there.")
	if lang, err := h.Env.Lang(context.Background(), Room); err != nil || lang != "en" {
		t.Errorf("language = %q, %v; want en, unchanged", lang, err)
	}
}

func TestReset(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config func(*config.Config)
		want   string
	}{
		{"default", func(*config.Config) {}, "OK, from now on I speak English in this room. Commands stay the same."},
		{"global", func(c *config.Config) { c.Language = "de" }, "OK, ab jetzt spreche ich in diesem Raum Deutsch. Die Befehle bleiben gleich."},
		{"room", func(c *config.Config) {
			c.Language = "de"
			c.Rooms = append(c.Rooms, config.Room{ID: string(Room), Language: "es"})
		}, "Vale, a partir de ahora hablo español en esta sala. Los comandos siguen siendo los mismos."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := harness(t)
			tc.config(h.Env.Config)
			h.Send(Ana, "!lang de")
			h.Send(Ana, "!lang es")
			h.Drain()
			Expect(t, h, Ana, "!lang reset", tc.want)
		})
	}
}

func TestUnknownCode(t *testing.T) {
	h := harness(t)
	Expect(t, h, Ana, "!lang fr", "I don't speak \"fr\" yet. I can speak `de` Deutsch, `en` English, `es` Español; for example `!lang es`.")
	h.SetLang("es")
	Expect(t, h, Ana, "!lang klingon", "Todavía no hablo \"klingon\". Sé hablar `de` Deutsch, `en` English, `es` Español; por ejemplo `!lang es`.")
	if lang, _ := h.Env.Lang(context.Background(), Room); lang != "es" {
		t.Errorf("language = %q, want es", lang)
	}
}

func TestOwnLanguageInDM(t *testing.T) {
	h := harness(t)
	h.SetLang("es")
	// Until Ben chooses, his own chat speaks the configured language.
	if got := h.SendDM(Ben, "!lang"); got != "I speak English with you. I can speak `de` Deutsch, `en` English, `es` Español; choose with `!lang es`." {
		t.Errorf("DM !lang: %q", got)
	}
	// Not a moderator: in their own chat, Ben chooses.
	if got := h.SendDM(Ben, "!lang de"); got != "OK, ab jetzt spreche ich mit dir Deutsch." {
		t.Errorf("DM !lang de: %q", got)
	}
	if got := h.SendDM(Ben, "!lang"); !strings.HasPrefix(got, "Mit dir spreche ich Deutsch.") {
		t.Errorf("DM !lang after: %q", got)
	}
	if got := h.SendDM(Ben, "!help"); !strings.HasPrefix(got, "Quorum – direkte Demokratie") || !strings.Contains(got, "`!hilfe` für `!help`") {
		t.Errorf("DM !help: %q", got)
	}
	// A DM caused in the room follows Ben's language; the room keeps its.
	out := h.SendAndDrain(Ben, "!notify")
	if got := One(t, out, "Auch: x"); got.DMUser != Ben {
		t.Errorf("DM to %q", got.DMUser)
	}
	Expect(t, h, Ben, "!lang", "Aquí hablo español. Sé hablar `de` Deutsch, `en` English, `es` Español; un/a moderador/a lo cambia con `!lang es`.")
	// Ana set none: her DMs follow the room they come from.
	out = h.SendAndDrain(Ana, "!notify")
	One(t, out, "También: x")
	if got := h.SendDM(Ben, "!lang reset"); got != "OK, from now on I speak English with you." {
		t.Errorf("DM !lang reset: %q", got)
	}
}

// TestDirectChatRemembersTheRoom: a member who chose no language gets a
// direct message caused by a Spanish room in Spanish, and what the bot says
// in their direct chat afterwards (a reply there) too; their own !lang
// wins over it, and another room's message moves it.
func TestDirectChatRemembersTheRoom(t *testing.T) {
	h := harness(t)
	if got := h.SendDM(Ben, "!lang"); !strings.HasPrefix(got, "I speak English with you.") {
		t.Fatalf("before any room wrote: %q", got)
	}
	h.SetLang("es")
	h.SendAndDrain(Ben, "!notify") // a direct message caused by the Spanish room
	if got := h.SendDM(Ben, "!lang"); !strings.HasPrefix(got, "Contigo hablo español.") {
		t.Errorf("a reply in the direct chat after the Spanish room wrote: %q", got)
	}
	h.SendDM(Ben, "!lang de")
	h.SendAndDrain(Ben, "!notify")
	if got := h.SendDM(Ben, "!lang"); !strings.HasPrefix(got, "Mit dir spreche ich Deutsch.") {
		t.Errorf("the member's own choice: %q", got)
	}
	h.SendDM(Ben, "!lang reset")
	h.SetLang("en")
	h.SendAndDrain(Ben, "!notify")
	if got := h.SendDM(Ben, "!lang"); !strings.HasPrefix(got, "I speak English with you.") {
		t.Errorf("after an English room wrote: %q", got)
	}
}
