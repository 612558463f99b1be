package study

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "quorum/commands/commandstest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, or rewrites it (-update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s changed:\n got %q\nwant %q", path, got, want)
	}
}

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
			golden(t, "announcement."+lang+".txt", series.Msg.Body+"\n\n"+private.Msg.Body+"\n\n"+dm+"\n")
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
