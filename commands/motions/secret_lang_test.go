package motions

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"

	. "quorum/commands/commandstest"
	"quorum/locale"
)

var ballotLettersRE = regexp.MustCompile("`!vote ([2-9A-Z]+) (\\S)`")

// openSecretIn opens a secret ballot in a room speaking lang and returns
// each member's ballot code and the three one-letter answers their ballot
// shows (yes, no, abstain).
func openSecretIn(t *testing.T, h *Harness, lang string) (code string, letters map[id.UserID][]string) {
	t.Helper()
	h.SetLang(lang)
	h.Send(Ana, "!motion --secret --closes 1h Strike on Friday")
	letters = map[id.UserID][]string{}
	for _, o := range h.Drain() {
		if o.DMUser == "" || o.Msg.Fields["quorum.ballot"] == nil {
			continue
		}
		for _, m := range ballotLettersRE.FindAllStringSubmatch(o.Msg.Body, -1) {
			code = m[1]
			letters[o.DMUser] = append(letters[o.DMUser], m[2])
		}
	}
	if code == "" || len(letters) != 3 {
		t.Fatalf("ballots: %v", letters)
	}
	return code, letters
}

// gotReceipt says whether the last DM answer was a receipt (in any language).
func gotReceipt(h *Harness) bool {
	for _, s := range h.Last {
		if s.Msg.Fields["quorum.receipt"] != nil {
			return true
		}
	}
	return false
}

// TestSecretLettersAfterRoomLanguageChange: a secret ballot is sent in
// Spanish (s/n/a); while it is open, a moderator sets the room to German.
// Every letter of the ballot is still counted: had `s` (yes) been refused
// with a short reply while `n` and `a` got the padded receipt, the
// homeserver, which sees ciphertext lengths, would learn who tried to vote
// yes (found by review, with this test). Also de→es, en→de, en→es.
func TestSecretLettersAfterRoomLanguageChange(t *testing.T) {
	for _, tc := range []struct{ from, to string }{{"es", "de"}, {"de", "es"}, {"en", "de"}, {"en", "es"}} {
		t.Run(tc.from+"→"+tc.to, func(t *testing.T) {
			h := newHarness(t, Ana, Ben, Chi)
			code, letters := openSecretIn(t, h, tc.from)
			h.SetLang(tc.to) // a moderator's !lang while the ballot is open
			choices := []string{"yes", "no", "abstain"}
			accepted := map[string]bool{}
			for i, u := range []id.UserID{Ana, Ben, Chi} {
				got := h.SendDM(u, "!vote "+code+" "+letters[u][i])
				accepted[choices[i]] = gotReceipt(h)
				if !accepted[choices[i]] {
					t.Logf("%s's %q (%s, as their %s ballot says) → %q (pad %d)", u, letters[u][i], choices[i], tc.from, got, h.Last[0].Msg.PadTo)
				}
			}
			if !(accepted["yes"] == accepted["no"] && accepted["no"] == accepted["abstain"]) {
				t.Errorf("after the room went %s→%s, the ballot's own letters are accepted by choice: %v", tc.from, tc.to, accepted)
			}
		})
	}
}

// TestSecretLettersAfterOwnLanguageChange: the same when the member
// changes their own direct-chat language between ballot and vote.
func TestSecretLettersAfterOwnLanguageChange(t *testing.T) {
	h := newHarness(t, Ana, Ben, Chi)
	ctx := context.Background()
	for _, u := range []id.UserID{Ana, Ben, Chi} {
		if err := h.Env.Store.Users().SetLanguage(ctx, u, "de"); err != nil {
			t.Fatal(err)
		}
	}
	code, letters := openSecretIn(t, h, "es") // ballots come in German: j/n/e
	accepted := map[string]bool{}
	for i, u := range []id.UserID{Ana, Ben, Chi} {
		if err := h.Env.Store.Users().SetLanguage(ctx, u, "en"); err != nil { // !lang en in their DM
			t.Fatal(err)
		}
		got := h.SendDM(u, "!vote "+code+" "+letters[u][i])
		accepted[[]string{"yes", "no", "abstain"}[i]] = gotReceipt(h)
		_ = got
	}
	if !(accepted["yes"] == accepted["no"] && accepted["no"] == accepted["abstain"]) {
		t.Errorf("after a member's own language de→en, their ballot's letters are accepted by choice: %v", accepted)
	}
}

// TestVoteWordsNeverCollide: no word of any language, folded,
// reads as two different choices, whatever languages are tried; every
// language's one-letter answers are one byte.
func TestVoteWordsNeverCollide(t *testing.T) {
	seen := map[string]Choice{}
	for lang, table := range voteWords {
		for c, words := range table {
			if len(words[1]) != 1 {
				t.Errorf("%s letter for %s is %q", lang, c, words[1])
			}
			for _, w := range words {
				f := locale.Fold(w)
				if prev, ok := seen[f]; ok && prev != c {
					t.Errorf("%q (%s) reads as %s and %s", w, lang, prev, c)
				}
				seen[f] = c
			}
		}
	}
	for _, langs := range [][]string{{"es"}, {"de"}, {"es", "de"}, {"de", "es"}, {"en"}} {
		for w, c := range seen {
			if got, ok := parseChoice(w, langs...); ok && got != c {
				t.Errorf("parseChoice(%q, %v) = %s, want %s", w, langs, got, c)
			}
			if got, ok := parseChoice(strings.ToUpper(w), langs...); ok && got != c {
				t.Errorf("parseChoice(%q, %v) = %s", strings.ToUpper(w), langs, got)
			}
		}
	}
}
