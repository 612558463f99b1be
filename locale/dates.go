package locale

import (
	"strings"
	"time"
	"unicode"

	"github.com/goodsign/monday"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// FormatTime formats t with a Go layout ("Mon 2 Jan 15:04"), with the day
// and month names of lang.
func FormatTime(lang string, t time.Time, layout string) string {
	l, ok := Lookup(lang)
	if !ok || l.Code == "en" {
		return t.Format(layout)
	}
	return monday.Format(t, layout, l.Dates)
}

// englishNames maps the full day and month names of every shipped language
// other than English, folded (lower case, no accents), to the English ones:
// members type "viernes 18:00" or "Freitag 18:00" and the time parser reads
// English. Abbreviations are left out: "mar" is martes in Spanish and March
// in English.
var englishNames = func() map[string]string {
	out := map[string]string{}
	enDays := monday.GetLongDays(monday.LocaleEnGB)
	enMonths := monday.GetLongMonths(monday.LocaleEnGB)
	for _, l := range Languages {
		if l.Code == "en" {
			continue
		}
		for i, d := range monday.GetLongDays(l.Dates) {
			out[Fold(d)] = enDays[i]
		}
		for i, m := range monday.GetLongMonths(l.Dates) {
			out[Fold(m)] = enMonths[i]
		}
	}
	return out
}()

// EnglishName returns the English name of a day or month typed in a
// shipped language ("Freitag", "miercoles", "März"), and false for any
// other word.
func EnglishName(word string) (string, bool) {
	en, ok := englishNames[Fold(word)]
	return en, ok
}

// Fold lower-cases s and drops its accents ("Miércoles" → "miercoles"); a
// German ä, ö, ü also matches ae, oe, ue, as typed on keyboards without
// them.
func Fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, strings.ToLower(s))
	if err != nil {
		return strings.ToLower(s)
	}
	return strings.NewReplacer("ae", "a", "oe", "o", "ue", "u", "ß", "ss").Replace(out)
}
