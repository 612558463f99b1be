package study

import (
	"strings"
	"testing"

	. "quorum/commands/commandstest"
)

// TestAnnouncementGolden: a study session's announcement, and its edit
// after answers, in the room's language; the place of a private session in
// the DM to those coming.
func TestAnnouncementGolden(t *testing.T) {
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, Ana, Ben)
			h.SetLang(lang)
			h.Env.Config.Timezone = "Europe/Madrid"
			series := newSession(t, h, "Reading circle at friday 18:00 where the back room every week topic Capital")
			private := newSession(t, h, "Strike committee at saturday 11:00 where Ana's kitchen --private-location")
			h.Send(Ben, "!rsvp 2 yes")
			var dm string
			for _, s := range h.Drain() {
				if s.DMUser == Ben {
					dm = s.Msg.Body
				}
			}
			Golden(t, "announcement", lang, series.Msg.Body+"\n\n"+private.Msg.Body+"\n\n"+dm+"\n")
		})
	}
}

// TestRSVPWords: the answers of !rsvp may be typed in any shipped
// language, accents optional.
func TestRSVPWords(t *testing.T) {
	h := newHarness(t, Ana, Ben)
	h.SetLang("es")
	newSession(t, h, "Reading circle at friday 18:00")
	for word, want := range map[string]string{"sí": "Anotado: voy", "si": "Anotado: voy", "quizás": "Anotado: quizá",
		"vielleicht": "Anotado: quizá", "nein": "Anotado: no voy", "ja": "Anotado: voy"} {
		if got := h.Reply(Ben, "!rsvp 1 "+word); !strings.HasPrefix(got, want) {
			t.Errorf("!rsvp 1 %s: %q, want %s…", word, got, want)
		}
		h.Drain() // the announcement's edit
	}
}
