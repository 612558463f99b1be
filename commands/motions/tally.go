package motions

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"quorum/commands"
	"quorum/locale"
	"quorum/store"
)

// Choice is a vote.
type Choice string

// The three choices.
const (
	Yes     Choice = "yes"
	No      Choice = "no"
	Abstain Choice = "abstain"
)

// voteWords are the words `!vote` reads for each choice, by language:
// English's everywhere, a room's own there, and every language's on a
// secret ballot (secret.go says why). The first word of a choice is the one
// replies show; the second is the single letter a secret ballot asks for,
// the same length for every choice. Case and accents do not matter
// (locale.Fold): "si", "SÍ" and "abstencion" are read too.
var voteWords = map[string]map[Choice][]string{
	"en": {Yes: {"yes", "y", "aye", "for", "+1"}, No: {"no", "n", "nay", "against", "-1"}, Abstain: {"abstain", "a", "abstention", "pass"}},
	"es": {Yes: {"sí", "s"}, No: {"no", "n"}, Abstain: {"abstención", "a"}},
	"de": {Yes: {"ja", "j"}, No: {"nein", "n"}, Abstain: {"enthaltung", "e"}},
}

// allChoices are the three choices in the order replies list them.
var allChoices = []Choice{Yes, No, Abstain}

// ParseChoice reads yes/no/abstain and common synonyms, in English.
func ParseChoice(s string) (Choice, bool) { return parseChoice(s) }

// parseChoice reads a vote in English or in one of langs.
func parseChoice(s string, langs ...string) (Choice, bool) {
	w := locale.Fold(strings.TrimSpace(s))
	for _, lang := range append(langs, locale.Default) {
		for _, c := range allChoices {
			if slices.ContainsFunc(voteWords[lang][c], func(x string) bool { return locale.Fold(x) == w }) {
				return c, true
			}
		}
	}
	return "", false
}

// voteWord is a choice as a reader reads it (a msg.Localizer): its word in
// their language, or its letter.
type voteWord struct {
	choice Choice
	letter bool
}

// Localize implements msg.Localizer.
func (w voteWord) Localize(lang string) string {
	words, ok := voteWords[lang]
	if !ok {
		words = voteWords[locale.Default]
	}
	if w.letter {
		return words[w.choice][1]
	}
	return words[w.choice][0]
}

// voteCommand is a `!vote` command as a reply shows it (a msg.Localizer),
// with the vote words of the reader's language: "!vote 3 sí|no|abstención",
// "!vote K3P7 j". The command itself stays English.
type voteCommand struct {
	prefix, ref string
	choices     []Choice
	letter      bool // the one-letter words of a secret ballot
}

// Localize implements msg.Localizer.
func (v voteCommand) Localize(lang string) string {
	words := make([]string, len(v.choices))
	for i, c := range v.choices {
		words[i] = voteWord{c, v.letter}.Localize(lang)
	}
	return v.prefix + "vote " + v.ref + " " + strings.Join(words, "|")
}

// voteOn is `!vote N yes|no|abstain` for motion n.
func voteOn(prefix string, n int) voteCommand {
	return voteCommand{prefix: prefix, ref: strconv.Itoa(n), choices: allChoices}
}

// voteSecret is `!vote CODE y|n|a` for a secret ballot's code.
func voteSecret(prefix, code string) voteCommand {
	return voteCommand{prefix: prefix, ref: code, choices: allChoices, letter: true}
}

// Tally counts the votes that stand.
type Tally struct {
	Yes, No, Abstain int
}

// Cast is everyone who voted, abstentions included (the turnout).
func (t Tally) Cast() int { return t.Yes + t.No + t.Abstain }

// Add counts one more vote of choice c (or removes one, with n = -1).
func (t *Tally) Add(c Choice, n int) {
	switch c {
	case Yes:
		t.Yes += n
	case No:
		t.No += n
	case Abstain:
		t.Abstain += n
	}
}

// Threshold is the share of votes cast, abstentions excluded, that a motion
// needs to carry. Majority means strictly more yes than no; fractions and
// percentages mean "at least" (exactly two thirds carries a 2/3 motion);
// unanimous means no "no" at all and at least one "yes".
type Threshold struct {
	// Num/Den is the fraction of yes+no needed; Den == 0 means majority.
	Num, Den  int
	unanimous bool
}

// Majority is the default threshold.
var Majority = Threshold{}

// ParseThreshold reads majority, 2/3, 3/4, unanimous or a percentage (51%).
func ParseThreshold(s string) (Threshold, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "majority", "simple", "simple majority", "50%+", ">50%":
		return Majority, nil
	case "unanimous", "unanimity", "100%":
		return Threshold{Num: 1, Den: 1, unanimous: true}, nil
	case "2/3", "two-thirds", "two thirds":
		return Threshold{Num: 2, Den: 3}, nil
	case "3/4", "three-quarters", "three quarters":
		return Threshold{Num: 3, Den: 4}, nil
	}
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(pct))
		if err == nil && n >= 1 && n <= 99 {
			return Threshold{Num: n, Den: 100}, nil
		}
	}
	return Threshold{}, commands.Refusef("I can't use %q as a threshold. Use `majority`, `2/3`, `3/4`, `unanimous` or a percentage such as `60%%`.", s)
}

// String is the canonical spelling, which ParseThreshold reads back.
func (th Threshold) String() string {
	switch {
	case th.unanimous:
		return "unanimous"
	case th.Den == 0:
		return "majority"
	case th.Den == 100:
		return fmt.Sprintf("%d%%", th.Num)
	}
	return fmt.Sprintf("%d/%d", th.Num, th.Den)
}

// AtLeast says whether th asks as much as least or more: 2/3 asks more
// than a majority, 50% (a tie carries) less.
func (th Threshold) AtLeast(least Threshold) bool {
	switch {
	case th.unanimous:
		return true
	case least.unanimous:
		return false
	}
	tn, td := th.share()
	ln, ld := least.share()
	if tn*ld != ln*td {
		return tn*ld > ln*td
	}
	// The same share: "more than" (a majority) asks more than "at least".
	return th.Den == 0 || least.Den != 0
}

// share is the fraction of yes+no a threshold is about; a majority is
// "more than" one half.
func (th Threshold) share() (num, den int) {
	if th.Den == 0 {
		return 1, 2
	}
	return th.Num, th.Den
}

// Met says whether the tally reaches the threshold. Abstentions never count
// for or against; with no yes and no no votes nothing carries.
func (th Threshold) Met(t Tally) bool {
	decided := t.Yes + t.No
	switch {
	case decided == 0:
		return false
	case th.unanimous:
		return t.No == 0
	case th.Den == 0:
		return t.Yes > t.No
	}
	return t.Yes*th.Den >= th.Num*decided
}

// Quorum is how many of the electorate must vote (abstentions count) for a
// result to stand: a share of the electorate or a fixed number.
type Quorum struct {
	Percent int // 0..100, used when Count < 0
	Count   int // fixed number, or -1
}

// ParseQuorum reads "50%", "6", "0" or "none".
func ParseQuorum(s string) (Quorum, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "none" || s == "0" || s == "0%" {
		return Quorum{Count: 0}, nil
	}
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(pct))
		if err == nil && n >= 1 && n <= 100 {
			return Quorum{Percent: n, Count: -1}, nil
		}
	} else if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 100000 {
		return Quorum{Count: n}, nil
	}
	return Quorum{}, commands.Refusef("I can't use %q as a quorum. Use a share of the members such as `50%%`, a number such as `6`, or `none`.", s)
}

// String is the canonical spelling.
func (q Quorum) String() string {
	if q.Count < 0 {
		return fmt.Sprintf("%d%%", q.Percent)
	}
	return strconv.Itoa(q.Count)
}

// Of returns the number of voters needed in an electorate of n, rounding a
// share up (50% of 7 is 4: half is not enough to be "half").
func (q Quorum) Of(n int) int {
	if q.Count >= 0 {
		return q.Count
	}
	return int(math.Ceil(float64(n) * float64(q.Percent) / 100))
}

// Outcome is how a vote ended: one of the statuses of a decided motion.
type Outcome = store.MotionStatus

// Outcomes of a vote.
const (
	Carried  = store.MotionCarried
	Failed   = store.MotionFailed
	NoQuorum = store.MotionNoQuorum
)

// Decide applies quorum and threshold to a final tally.
func Decide(t Tally, th Threshold, quorum int) Outcome {
	if t.Cast() < quorum {
		return NoQuorum
	}
	if th.Met(t) {
		return Carried
	}
	return Failed
}

// choiceKeys maps normalised reaction keys to choices, from the configured
// aliases.
func choiceKeys(yes, no, abstain []string) map[string]Choice {
	keys := map[string]Choice{}
	for c, list := range map[Choice][]string{Yes: yes, No: no, Abstain: abstain} {
		for _, k := range list {
			keys[commands.NormalizeKey(k)] = c
		}
	}
	return keys
}
