package locale

import (
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// The English names Go writes in times; each is a catalog key, translated
// like any message.
var (
	days        = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	shortDays   = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	months      = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
	shortMonths = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// DateWords lists the day and month names the catalogs translate.
func DateWords() []string {
	var out []string
	for _, list := range [][]string{days, shortDays, months, shortMonths} {
		out = append(out, list...)
	}
	return out
}

// FormatTime formats t with a Go layout ("Mon 2 Jan 15:04"), with the day
// and month names of lang. Go writes the English names; each is then
// replaced by its translation, by the position the layout gave it (a short
// "May" and a long one read differently in other languages).
func FormatTime(lang string, t time.Time, layout string) string {
	out := t.Format(layout)
	if len(catalog(lang)) == 0 {
		return out
	}
	// The names in out are the English ones of t's day and month, and only
	// those: a layout has no other words.
	names := map[string]string{}
	switch {
	case strings.Contains(layout, "Monday"):
		names[days[t.Weekday()]] = Text(lang, days[t.Weekday()])
	case strings.Contains(layout, "Mon"):
		names[shortDays[t.Weekday()]] = Text(lang, shortDays[t.Weekday()])
	}
	switch {
	case strings.Contains(layout, "January"):
		names[months[t.Month()-1]] = Text(lang, months[t.Month()-1])
	case strings.Contains(layout, "Jan"):
		names[shortMonths[t.Month()-1]] = Text(lang, shortMonths[t.Month()-1])
	}
	var b strings.Builder
	for len(out) > 0 {
		i := strings.IndexFunc(out, unicode.IsLetter)
		if i < 0 {
			b.WriteString(out)
			break
		}
		b.WriteString(out[:i])
		out = out[i:]
		j := strings.IndexFunc(out, func(r rune) bool { return !unicode.IsLetter(r) })
		if j < 0 {
			j = len(out)
		}
		word := out[:j]
		if tr, ok := names[word]; ok {
			word = tr
		}
		b.WriteString(word)
		out = out[j:]
	}
	return b.String()
}

// englishNames maps the full day and month names of every shipped language
// other than English, folded (lower case, no accents), to the English ones:
// members type "viernes 18:00" or "Freitag 18:00" and the time parser reads
// English. Abbreviations are left out: "mar" is martes in Spanish and March
// in English.
var englishNames = sync.OnceValue(func() map[string]string {
	out := map[string]string{}
	for _, l := range Languages {
		if l.Code == Default {
			continue
		}
		for _, en := range slices.Concat(days, months) {
			if tr := Text(l.Code, en); tr != en {
				out[Fold(tr)] = en
			}
		}
	}
	return out
})

// EnglishName returns the English name of a day or month typed in a
// shipped language ("Freitag", "miercoles", "März"), and false for any
// other word.
func EnglishName(word string) (string, bool) {
	en, ok := englishNames()[Fold(word)]
	return en, ok
}

// Fold lower-cases s and drops its accents ("Miércoles" → "miercoles"); a
// German ä, ö, ü also matches ae, oe, ue, as typed on keyboards without
// them.
func Fold(s string) string {
	return strings.NewReplacer("ae", "a", "oe", "o", "ue", "u", "ß", "ss").Replace(Unmark(strings.ToLower(s)))
}

// Unmark drops the accents of s ("moción" → "mocion"), keeping the rest.
func Unmark(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}
