// Package locale holds what the bot needs to speak a member's language:
// the shipped languages, their message catalogs, their plural rules (CLDR,
// through golang.org/x/text) and their names of days and months.
//
// The catalogs follow the gettext convention: a message's English format,
// as written in the code, is its key; each catalog maps it to the
// translation, with the same placeholders. English needs no catalog. A
// message with plural forms is keyed by its English "other" form and
// translated as an object of CLDR forms: {"one": "…", "other": "…"}.
//
// Day and month names are catalog entries too ("Friday", "Fri",
// "December", "Dec"): DateWords lists them.
//
// To add a language: copy catalog/es to catalog/<code>, translate every
// value, and add the code to Languages with its name.
//
// A language's catalog is read on its first use, so that a bot whose rooms
// all speak English holds none in memory.
package locale

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// Default is the language of a room nobody set one for.
const Default = "en"

// Language is a shipped language.
type Language struct {
	Code string // ISO 639-1, as typed in !lang
	Name string // in itself, as listed by !lang
	tag  language.Tag
}

// Languages are the shipped languages, by code.
var Languages = []Language{
	{Code: "de", Name: "Deutsch", tag: language.German},
	{Code: "en", Name: "English", tag: language.English},
	{Code: "es", Name: "Español", tag: language.Spanish},
}

// Lookup finds a shipped language by code (case-insensitive; "es-AR"
// finds "es").
func Lookup(code string) (Language, bool) {
	code = strings.ToLower(strings.TrimSpace(code))
	if base, _, ok := strings.Cut(code, "-"); ok {
		code = base
	} else if base, _, ok := strings.Cut(code, "_"); ok {
		code = base
	}
	for _, l := range Languages {
		if l.Code == code {
			return l, true
		}
	}
	return Language{}, false
}

// Codes lists the shipped languages' codes.
func Codes() []string {
	var out []string
	for _, l := range Languages {
		out = append(out, l.Code)
	}
	return out
}

// entry is one translation: a format, or plural forms by CLDR category.
type entry struct {
	text  string
	forms map[string]string
}

func (e *entry) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &e.text); err == nil {
		return nil
	}
	return json.Unmarshal(b, &e.forms)
}

//go:embed catalog
var catalogFS embed.FS

// catalogs holds each language's entries by English key, read on first use.
var catalogs sync.Map // code → func() map[string]entry

// catalog returns lang's entries (none for English or an unknown code).
func catalog(lang string) map[string]entry {
	get, _ := catalogs.LoadOrStore(lang, sync.OnceValue(func() map[string]entry {
		entries, err := load(catalogFS, lang)
		if err != nil {
			panic(err) // the embedded files are checked by the tests
		}
		return entries
	}))
	return get.(func() map[string]entry)()
}

// Digest is a digest of lang's catalog files as embedded: it changes with
// any translation, and reading it does not load the catalog.
func Digest(lang string) string {
	h := sha256.New()
	files, _ := fs.Glob(catalogFS, path.Join("catalog", lang, "*.json"))
	for _, file := range files {
		b, _ := fs.ReadFile(catalogFS, file)
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// load reads catalog/<lang>/*.json. A key in two files of one language is
// an error: each file belongs to one package, and a message in two packages
// is one message.
func load(fsys fs.FS, lang string) (map[string]entry, error) {
	out := map[string]entry{}
	if _, ok := Lookup(lang); !ok || strings.ContainsAny(lang, "/*?[") {
		return out, nil
	}
	files, err := fs.Glob(fsys, path.Join("catalog", lang, "*.json"))
	if err != nil {
		return nil, err
	}
	for _, file := range files {
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		var entries map[string]entry
		if err := json.Unmarshal(b, &entries); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for k, v := range entries {
			if _, dup := out[k]; dup {
				return nil, fmt.Errorf("%s: %q is translated twice", file, k)
			}
			out[k] = v
		}
	}
	return out, nil
}

// Text returns format translated into lang, or format itself when lang is
// English or the catalog lacks it (the tests make sure none is lacking).
func Text(lang, format string) string {
	if e, ok := catalog(lang)[format]; ok && e.forms == nil {
		return e.text
	}
	return format
}

// Plural returns the form of a plural message for n in lang: one or other
// in English (given by the code), the catalog's form in other languages.
func Plural(lang string, n int, one, other string) string {
	form := Form(lang, n)
	if e, ok := catalog(lang)[other]; ok && e.forms != nil {
		if s, ok := e.forms[form]; ok {
			return s
		}
		return e.forms["other"]
	}
	if form == "one" {
		return one
	}
	return other
}

// Form is the CLDR plural category of the integer n in lang: "one",
// "many", "other"…
func Form(lang string, n int) string {
	l, ok := Lookup(lang)
	if !ok {
		l, _ = Lookup(Default)
	}
	if n < 0 {
		n = -n
	}
	switch plural.Cardinal.MatchPlural(l.tag, n, 0, 0, 0, 0) {
	case plural.Zero:
		return "zero"
	case plural.One:
		return "one"
	case plural.Two:
		return "two"
	case plural.Few:
		return "few"
	case plural.Many:
		return "many"
	}
	return "other"
}

// Keys lists the keys of lang's catalog, sorted (for the tests).
func Keys(lang string) []string {
	var out []string
	for k := range catalog(lang) {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Translation returns lang's entry for key: its text, or its plural forms.
func Translation(lang, key string) (text string, forms map[string]string, ok bool) {
	e, ok := catalog(lang)[key]
	return e.text, e.forms, ok
}
