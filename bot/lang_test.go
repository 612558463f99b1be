package bot_test

import (
	"regexp"
	"strings"
	"testing"

	"maunium.net/go/mautrix/event"

	"quorum/locale"
	"quorum/msg"
	"quorum/testkit"
)

// in renders an English format in lang as the bot would (with args), or
// gives its translation (without), and fails the test if the catalog
// leaves it English: a check that could not fail is worth nothing.
func in(t *testing.T, lang, format string, args ...any) string {
	t.Helper()
	got, english := locale.Text(lang, format), format
	if len(args) > 0 {
		got, english = msg.T(format, args...).In(lang), msg.T(format, args...).In("en")
	}
	if got == english {
		t.Fatalf("%q reads the same in %s and English", format, lang)
	}
	return got
}

// placeholder is a verb of a format, as msg renders them.
var placeholder = regexp.MustCompile(`%(\[\d+\])?[a-z]|\*\*|\x60|\n`)

// says reports whether body has every fixed piece of format (the words
// between its placeholders and markup): body says format, whatever the
// arguments.
func says(body, format string) bool {
	for _, piece := range placeholder.Split(format, -1) {
		if piece = strings.TrimSpace(piece); piece != "" && !strings.Contains(body, piece) {
			return false
		}
	}
	return true
}

// TestLanguages: on a real homeserver, a room a moderator set to Spanish
// gets its replies, secret ballot notice and result in Spanish while
// another room stays in English; a member's direct chat follows their own
// !lang (German), another member's the room the ballot came from; vote
// words count in the voter's language.
func TestLanguages(t *testing.T) {
	t.Parallel()
	_, b, es, ana, ben := anaAndBen(t)
	botID := b.Client().UserID
	en := ana.CreateRoom(false, botID, ben.UserID)
	ana.WaitJoined(en, botID, wait)
	ana.WaitJoined(en, ben.UserID, wait)

	reply := ana.Ask(es, "!lang es").Content.AsMessage().Body
	if want := in(t, "es", "OK, from now on I speak %s in this room. Commands stay the same.", msg.T("Spanish")); !strings.Contains(reply, want) {
		t.Fatalf("!lang es: %q, want %q", reply, want)
	}
	if reply := ben.Ask(es, "!lang de").Content.AsMessage().Body; !strings.Contains(reply,
		in(t, "es", "Only a moderator can change the language I speak in this room. You can choose your own for our direct chat: send `%s` there.", "!lang de")) {
		t.Fatalf("a member's !lang in the room: %q", reply)
	}

	ana.Say(en, "!motion --closes 1h Buy a banner")
	findNotice(ana, en, botID, "Motion #1")

	ana.Say(es, "!motion --secret --closes 1h Huelga el viernes")
	ballot := in(t, "es", "**Secret ballot: motion #%d** in %s (ballot `%s`)\n%s\n"+
		"Reply here with `%s` (yes), `%s` (no) or `%s` (abstain). Use these one-letter answers: the homeserver sees how long your encrypted reply is, and these three are the same length. "+
		"Your vote is stored apart from your name and cannot be changed; you will get a receipt code to check the result with.")
	ballots := map[string]*event.Event{}
	for _, c := range []*testkit.Client{ana, ben} {
		ballots[c.UserID.Localpart()] = c.WaitFor(wait, "a Spanish ballot", func(evt *event.Event) bool {
			return evt.RoomID != es && evt.RoomID != en && testkit.IsNotice(evt, evt.RoomID, botID, "") &&
				evt.Content.Raw["quorum.ballot"] != nil && says(evt.Content.AsMessage().Body, ballot)
		})
	}
	opened := in(t, "es", "**Motion #%d** (%s): %s")
	ana.WaitFor(wait, "the Spanish notice", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, es, botID, "") && says(evt.Content.AsMessage().Body, opened)
	})

	dm := ballots["ben"].RoomID
	if reply := ben.Ask(dm, "!lang de").Content.AsMessage().Body; !strings.Contains(reply, in(t, "de", "OK, from now on I speak %s with you.", msg.T("German"))) {
		t.Fatalf("!lang de in the direct chat: %q", reply)
	}
	for name, word := range map[string]string{"ana": "sí", "ben": "nein"} {
		c, ballot := ana, ballots[name]
		if name == "ben" {
			c = ben
		}
		code, _ := ballot.Content.Raw["quorum.ballot"].(map[string]any)["code"].(string)
		receipt := c.WaitReply(ballot.RoomID, c.Say(ballot.RoomID, "!vote "+code+" "+word), wait).Content.AsMessage().Body
		lang := map[string]string{"ana": "es", "ben": "de"}[name]
		if !says(receipt, in(t, lang, "Your secret ballot on motion #%d (ballot `%s`) is counted. Your receipt code is `%s`: when the result is posted it lists every code with its vote, so you can check yours was counted as cast. Keep it to yourself.")) {
			t.Errorf("%s's receipt for %q: %q", name, word, receipt)
		}
	}
	closed := in(t, "es", "Motion #%d: %s. Threshold: %s. %s")
	result := ana.WaitFor(wait, "the Spanish result", func(evt *event.Event) bool {
		return testkit.IsNotice(evt, es, botID, "") && says(evt.Content.AsMessage().Body, closed)
	})
	if q, _ := result.Content.Raw["quorum.motion"].(map[string]any); q["status"] != "failed" {
		t.Errorf("one yes, one no: quorum.motion status %v, want the language-neutral \"failed\"; body %q", q["status"], result.Content.AsMessage().Body)
	}
	const helpEnd = "Send `%s` for what one does, with examples. Vote by reacting on a motion: 👍 👎 🤷."
	if reply := ben.Ask(en, "!help").Content.AsMessage().Body; !says(reply, helpEnd) {
		t.Errorf("!help in the English room: %q", reply)
	}
	if reply := ben.Ask(es, "!help").Content.AsMessage().Body; !says(reply, in(t, "es", helpEnd)) {
		t.Errorf("!help in the Spanish room: %q", reply)
	}
}
