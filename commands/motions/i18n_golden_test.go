package motions

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"maunium.net/go/mautrix/id"

	. "quorum/commands/commandstest"
)

// hexRun is a run of hexadecimal digits, such as a record's chain head.
var hexRun = regexp.MustCompile(`[0-9a-f]{8,}`)

// masker hides what differs between runs (ballot and receipt codes, the
// record's hash) behind fixed names, so that the golden files compare.
type masker struct {
	names map[string]string
	hash  string
}

func (m *masker) name(code, as string) {
	if m.names == nil {
		m.names = map[string]string{}
	}
	m.names[code] = as
}

func (m *masker) mask(s string) string {
	// Longer codes first: a receipt code could contain a ballot code.
	codes := slices.SortedFunc(maps.Keys(m.names), func(a, b string) int { return len(b) - len(a) })
	for _, code := range codes {
		s = strings.ReplaceAll(s, code, m.names[code])
	}
	return hexRun.ReplaceAllStringFunc(s, func(h string) string {
		if m.hash != "" && strings.HasPrefix(m.hash, h) {
			return "HASH"
		}
		return h
	})
}

// recordHash notes the hash of the record entry a message carries.
func (m *masker) recordHash(t *testing.T, s Sent) {
	t.Helper()
	f, ok := s.Msg.Fields["quorum.record"].(map[string]any)
	if !ok {
		t.Fatalf("no quorum.record in %q", s.Msg.Body)
	}
	m.hash, _ = f["hash"].(string)
}

// pollText is the text of a poll's start (question, then answers) or end.
func pollText(s Sent) string {
	c := s.Ev.Content
	start, ok := c["org.matrix.msc3381.poll.start"].(map[string]any)
	if !ok {
		return c["org.matrix.msc1767.text"].(string)
	}
	q := start["question"].(map[string]any)
	lines := []string{q["org.matrix.msc1767.text"].(string)}
	for _, a := range start["answers"].([]any) {
		a := a.(map[string]any)
		lines = append(lines, a["id"].(string)+": "+a["org.matrix.msc1767.text"].(string))
	}
	lines = append(lines, "fallback:", c["org.matrix.msc1767.text"].(string))
	return strings.Join(lines, "\n")
}

// voteWordsOf are a room's vote words for the golden scenes.
var voteWordsOf = map[string][3]string{"en": {"yes", "no", "abstain"}, "es": {"sí", "no", "abstención"}, "de": {"ja", "nein", "Enthaltung"}}

// TestGoldenNotices renders the main notices of motions in every shipped
// language: a motion opened (notice and poll), its result (reply, poll end
// and final notice), the standing orders and a motion to change one.
func TestGoldenNotices(t *testing.T) {
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			words := voteWordsOf[lang]
			h := newPollHarness(t, Ana, Ben, Chi, Dan)
			h.SetLang(lang)
			notice, poll := openPolled(t, h, "!motion --closes 48h Pay the rent from the strike fund")
			Golden(t, "motion", lang, notice.Msg.Body)
			Golden(t, "poll-start", lang, pollText(poll))

			h.Send(Ana, "!vote 1 "+words[0])
			h.Send(Ben, "!vote 1 "+words[0])
			h.Send(Chi, "!vote 1 "+words[1])
			h.Send(Dan, "!vote 1 "+words[2])
			h.Drain()
			out := h.AdvanceTo(h.Clock.Now().Add(time.Minute)) // everyone voted: it closes after the settle time
			var m masker
			var result, edit Sent
			for _, o := range out {
				switch {
				case o.Msg.ReplyToAnchor != nil:
					result = o
				case o.Msg.Edit != nil:
					edit = o
				}
			}
			m.recordHash(t, result)
			Golden(t, "result", lang, m.mask(result.Msg.Body))
			Golden(t, "result-notice", lang, edit.Msg.Body)
			ends := Polls(out, PollEndType)
			if len(ends) != 1 {
				t.Fatalf("want one poll end:%s", Bodies(out))
			}
			Golden(t, "poll-end", lang, m.mask(pollText(ends[0])))

			Golden(t, "rules", lang, h.Reply(Ana, "!rules"))
			notice, _ = openPolled(t, h, "!rules set voting_time 72h")
			Golden(t, "rules-motion", lang, notice.Msg.Body)
		})
	}
}

// TestGoldenSecretBallot renders a secret ballot in every shipped language:
// its room notice, the ballot a member gets and the receipt of their vote,
// cast with their language's one-letter word.
func TestGoldenSecretBallot(t *testing.T) {
	letters := map[string]string{"en": "y", "es": "s", "de": "j"}
	for _, lang := range []string{"en", "es", "de"} {
		t.Run(lang, func(t *testing.T) {
			h := newHarness(t, Ana, Ben, Chi)
			h.SetLang(lang)
			h.Send(Ana, "!motion --secret --closes 1h Strike on Friday")
			out := h.Drain()
			var m masker
			var notice Sent
			ballots := map[id.UserID]Sent{}
			for _, o := range out {
				if o.DMUser != "" {
					ballots[o.DMUser] = o
					f, _ := o.Msg.Fields["quorum.ballot"].(map[string]any)
					m.name(f["code"].(string), "BALLOT")
				} else {
					notice = o
				}
			}
			if len(ballots) != 3 {
				t.Fatalf("want 3 ballots:%s", Bodies(out))
			}
			Golden(t, "secret-notice", lang, m.mask(notice.Msg.Body))
			Golden(t, "ballot", lang, m.mask(ballots[Ben].Msg.Body))

			h.SendDM(Ben, "!vote 1 "+letters[lang])
			receipt := h.Last[0]
			f, ok := receipt.Msg.Fields["quorum.receipt"].(map[string]any)
			if !ok || receipt.DMUser != Ben {
				t.Fatalf("no receipt to ben:%s", Bodies(h.Last))
			}
			m.name(f["code"].(string), "RECEIPT")
			Golden(t, "receipt", lang, m.mask(receipt.Msg.Body))
		})
	}
}
