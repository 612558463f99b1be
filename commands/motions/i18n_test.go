package motions

import (
	"context"
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"

	"quorum/commands"
	. "quorum/commands/commandstest"
)

// TestVoteWordsOfTheRoom: `!vote` reads the room's words (any case, with
// or without accents) as well as English ones; another language's word is
// refused with the room's words and an example.
func TestVoteWordsOfTheRoom(t *testing.T) {
	cases := []struct {
		lang  string
		votes []string // ana, ben, chi, in that order
		want  Tally
		reply string // ana's reply
	}{
		{"es", []string{"sí", "Abstencion", "SI"}, Tally{2, 0, 1}, "Tu voto en la moción #1: sí."},
		{"es", []string{"no", "abstención", "yes"}, Tally{1, 1, 1}, "Tu voto en la moción #1: no."},
		{"de", []string{"nein", "Enthaltung", "Ja"}, Tally{1, 1, 1}, "Deine Stimme zu Antrag #1: nein."},
		{"de", []string{"NEIN", "abstain", "n"}, Tally{0, 2, 1}, "Deine Stimme zu Antrag #1: nein."},
		{"en", []string{"y", "abstain", "no"}, Tally{1, 1, 1}, "Your vote on motion #1: yes."},
	}
	for _, tc := range cases {
		t.Run(tc.lang+" "+strings.Join(tc.votes, " "), func(t *testing.T) {
			h := newHarness(t, Ana, Ben, Chi, Dan) // dan does not vote: it stays open
			h.SetLang(tc.lang)
			openMotion(t, h, "Pay the rent")
			for i, u := range []id.UserID{Ana, Ben, Chi} {
				got := h.Reply(u, "!vote 1 "+tc.votes[i])
				if i == 0 && got != tc.reply {
					t.Errorf("reply %q, want %q", got, tc.reply)
				}
			}
			if got := tally(t, h, 1); got != tc.want {
				t.Errorf("tally = %+v, want %+v", got, tc.want)
			}
		})
	}

	refused := []struct{ lang, cmd, want string }{
		{"en", "!vote 1 sí", "`sí` is not a vote: say `yes`, `no` or `abstain`, for example `!vote 3 yes`."},
		{"es", "!vote 1 ja", "`ja` no es un voto: di `sí`, `no` o `abstención`, por ejemplo `!vote 3 sí`."},
		{"de", "!vote 1 sí", "`sí` ist keine Stimme: sag `ja`, `nein` oder `enthaltung`, zum Beispiel `!vote 3 ja`."},
	}
	for _, tc := range refused {
		h := newHarness(t, Ana, Ben)
		h.SetLang(tc.lang)
		openMotion(t, h, "Pay the rent")
		if got := h.Reply(Ben, tc.cmd); got != tc.want {
			t.Errorf("%s in %s:\n got %q\nwant %q", tc.cmd, tc.lang, got, tc.want)
		}
		if got := tally(t, h, 1); got != (Tally{}) {
			t.Errorf("%s in %s counted: %+v", tc.cmd, tc.lang, got)
		}
	}
}

// TestSecretVoteWords: a secret ballot comes with the one-letter words of
// the member's language (theirs, else the room's), and is cast with them,
// the full words or English ones; another language's words are refused.
func TestSecretVoteWords(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi, Dan)
	h.SetLang("es")
	if err := h.Env.Store.Users().SetLanguage(context.Background(), Chi, "de"); err != nil {
		t.Fatal(err)
	}
	code, ballots := openSecret(t, h, Room, Ana, "Strike on Friday")
	for u, want := range map[id.UserID]string{Ana: "`!vote " + code + " s` (sí)", Chi: "`!vote " + code + " j` (ja)"} {
		if !strings.Contains(ballots[u].Msg.Body, want) {
			t.Errorf("%s's ballot does not say %q:\n%s", u, want, ballots[u].Msg.Body)
		}
	}
	// Ana and Ben read Spanish; Chi reads German but may use the room's
	// words too, and Dan English.
	for u, vote := range map[id.UserID]string{Ana: "s", Ben: "Abstención", Chi: "nein", Dan: "yes"} {
		if got := h.SendDM(u, "!vote "+code+" "+vote); !strings.Contains(got, "`"+code+"`") || strings.Contains(got, "not a vote") {
			t.Errorf("%s voted %q: %q", u, vote, got)
		}
	}
	if got := status(t, h, 1); got != Carried {
		t.Errorf("status = %s, want carried (2 yes, 1 no, 1 abstention)", got)
	}
	var result Sent
	for _, o := range h.Last {
		if o.Msg.ReplyToAnchor != nil {
			result = o
		}
	}
	if f := motionField(t, result.Msg); f["yes"] != 2 || f["no"] != 1 || f["abstain"] != 1 {
		t.Errorf("result = %v", f)
	}
	if !strings.Contains(result.Msg.Body, "Comprobantes, para que encuentres el tuyo:") || !strings.Contains(result.Msg.Body, " abstención") {
		t.Errorf("the result lists the receipts in Spanish: %q", result.Msg.Body)
	}

	// In an English room, a secret ballot counts a Spanish letter too
	// (every language's, TestSecretLettersAfterRoomLanguageChange says why);
	// the receipt comes in English, and a word of no language is refused.
	h = newHarness(t, Ana, Ben)
	code, _ = openSecret(t, h, Room, Ana, "Strike on Friday")
	want := "`x` is not a vote: say `y`, `n` or `a`, for example `!vote " + code + " y`."
	if got := h.SendDM(Ben, "!vote "+code+" x"); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := h.SendDM(Ben, "!vote "+code+" s"); !receiptRE.MatchString(got) {
		t.Errorf("no receipt: %q", got)
	}
}

// inRoom sends body from sender in room and returns what it caused.
func inRoom(t *testing.T, h *Harness, room id.RoomID, sender id.UserID, body string) []Sent {
	t.Helper()
	_, err := h.A.HandleMessage(context.Background(), commands.Message{Room: room, Sender: sender, Event: h.NextEvent(), Time: h.Clock.Now(), Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return h.Drain()
}

// TestSameMotionTwoLanguages: the same motion reads in English in an
// English room and in Spanish in a Spanish one, its poll included; the
// poll's answers keep their IDs, so an answer counts in either.
func TestSameMotionTwoLanguages(t *testing.T) {
	h := newPollHarness(t, Ana, Ben, Chi)
	spanish := id.RoomID("!sala:test")
	h.Rooms.Joined[spanish] = h.Rooms.Joined[Room]
	if err := h.Env.Store.Rooms().SetLanguage(context.Background(), spanish, "es"); err != nil {
		t.Fatal(err)
	}
	wants := map[id.RoomID][]string{
		Room:    {"Motion #1 (@ana:test): Pay the rent", "Tally: 0 yes · 0 no · 0 abstain", "Motion #1: Pay the rent", "Yes,No,Abstain"},
		spanish: {"Moción #1 (@ana:test): Pay the rent", "Recuento: sí 0 · no 0 · abstención 0", "Moción #1: Pay the rent", "Sí,No,Abstención"},
	}
	for room, want := range wants {
		out := inRoom(t, h, room, Ana, "!motion Pay the rent")
		starts := Polls(out, PollStartType)
		if len(out) != 2 || len(starts) != 1 {
			t.Fatalf("%s: want a notice and a poll:%s", room, Bodies(out))
		}
		if body := out[0].Msg.Body; !strings.HasPrefix(body, want[0]) || !strings.Contains(body, want[1]) {
			t.Errorf("%s: notice\n%s\nwant %q and %q", room, body, want[0], want[1])
		}
		start := starts[0].Ev.Content["org.matrix.msc3381.poll.start"].(map[string]any)
		var ids, texts []string
		for _, a := range start["answers"].([]any) {
			a := a.(map[string]any)
			ids = append(ids, a["id"].(string))
			texts = append(texts, a["org.matrix.msc1767.text"].(string))
		}
		q := start["question"].(map[string]any)["org.matrix.msc1767.text"]
		if q != want[2] || strings.Join(texts, ",") != want[3] || strings.Join(ids, ",") != "yes,no,abstain" {
			t.Errorf("%s: poll %q %v %v", room, q, texts, ids)
		}
		// An answer is matched by its ID, whatever the language.
		err := h.A.HandlePollResponse(context.Background(), commands.PollResponse{Room: room, Sender: Ben, Event: h.NextEvent(),
			Target: starts[0].EventID, Answers: []string{"yes"}, Time: h.Clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		h.Drain()
		m, _, err := h.Env.Store.Motions().ByNumber(context.Background(), room, 1)
		if err != nil || m.Yes != 1 {
			t.Errorf("%s: the poll answer did not count: %+v %v", room, m, err)
		}
	}
}
