package commands

import (
	"fmt"
	"quorum/locale"
	"slices"
	"strings"
)

// Aliases are names for the commands members type most, in their language:
// by language code, then alias → command. They work in every room, since a
// member may write in their own language anywhere and the registry refuses
// an alias that is another command's name; !help lists those of the room's
// language. A command a registry lacks (a test's) is skipped. They are
// written without accents or umlauts, as command names are ASCII (Parse);
// the dispatcher reads them typed with them too (unaccent).
var Aliases = map[string]map[string]string{
	"es": {
		"ayuda": "help", "votar": "vote", "mocion": "motion", "mociones": "motions",
		"apoyar": "second", "asistir": "rsvp", "recordar": "remind", "enmienda": "amend", "encuesta": "poll",
		"acta": "minutes",
	},
	"de": {
		"hilfe": "help", "abstimmen": "vote", "antrag": "motion", "antraege": "motions",
		"unterstuetzen": "second", "teilnahme": "rsvp", "erinnern": "remind",
		"umfrage": "poll", "protokoll": "minutes",
	},
}

// addAliases registers Aliases for the commands r has.
func (r *Registry) addAliases() error {
	r.aliases = map[*Command]map[string][]string{}
	for lang, table := range Aliases {
		for alias, name := range table {
			c, ok := r.byName[name]
			if !ok {
				continue
			}
			if other, dup := r.byName[alias]; dup {
				return fmt.Errorf("%s alias %q is also %q's name", lang, alias, other.Name)
			}
			r.byName[alias] = c
			if r.aliases[c] == nil {
				r.aliases[c] = map[string][]string{}
			}
			r.aliases[c][lang] = append(r.aliases[c][lang], alias)
		}
	}
	for _, byLang := range r.aliases {
		for _, list := range byLang {
			slices.Sort(list)
		}
	}
	return nil
}

// AliasesIn lists c's aliases in lang (Aliases), sorted.
func (r *Registry) AliasesIn(c *Command, lang string) []string { return r.aliases[c][lang] }

// umlauts are written out as on keyboards without them: "anträge" is
// "antraege".
var umlauts = strings.NewReplacer("ä", "ae", "ö", "oe", "ü", "ue", "Ä", "Ae", "Ö", "Oe", "Ü", "Ue", "ß", "ss")

// unaccent writes word without accents or umlauts ("moción" → "mocion",
// "Anträge" → "Antraege").
func unaccent(word string) string { return locale.Unmark(umlauts.Replace(word)) }
