package commands

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
)

// Phones turn "--" into a dash: an em dash (—), an en dash (–), sometimes
// followed by a hyphen. Option and NearMiss read flags as members type
// them, so that a flag that keeps something confidential is never taken as
// text by mistake.

// isDash is a character a flag may start with as typed on a phone.
func isDash(r rune) bool { return r == '-' || r == '–' || r == '—' || r == '−' }

// Option reads word as an option: "--secret", "—secret", "–secret" or
// "—-secret", with an optional "=value". The name is lower case. ok is
// false for anything else, a lone dash and "-secret" included.
func Option(word string) (name, value string, hasValue, ok bool) {
	rest := strings.TrimLeftFunc(word, isDash)
	dashes := word[:len(word)-len(rest)]
	if rest == "" || !unicode.IsLetter([]rune(rest)[0]) || dashes == "" || dashes == "-" || dashes == "−" {
		return "", "", false, false
	}
	name, value, hasValue = strings.Cut(rest, "=")
	return strings.ToLower(name), value, hasValue, true
}

// NearMiss says whether word looks like flag mistyped: it starts with a
// dash and its name is flag within two edits ("-secret", "--secert",
// "—secret."), without being flag written as Option reads it.
func NearMiss(word, flag string) bool {
	rest := strings.TrimLeftFunc(word, isDash)
	if rest == word || rest == "" {
		return false
	}
	if name, _, _, ok := Option(word); ok && name == flag {
		return false
	}
	name := strings.ToLower(strings.TrimRightFunc(rest, unicode.IsPunct))
	if name, _, _ = strings.Cut(name, "="); name == "" {
		return false
	}
	return levenshtein.ComputeDistance(name, flag) <= 2
}

// Unsafe says whether member text carries what it may not: invalid UTF-8,
// or a control character (controlChar). The dispatcher refuses such
// commands; parsers that may be called otherwise check too.
func Unsafe(s string) bool { return !utf8.ValidString(s) || strings.IndexFunc(s, controlChar) >= 0 }

// controlChar is a character member text may not carry: C0 and C1 controls
// other than tab and newlines, and the bidirectional overrides and
// isolates that make text display differently from what it says.
func controlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20 || r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}
