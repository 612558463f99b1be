package locale

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestFormatTime(t *testing.T) {
	fri := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	may := time.Date(2027, 5, 3, 9, 5, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang, layout string
		t            time.Time
		want         string
	}{
		{"en", "Mon 2 Jan 15:04", fri, "Fri 4 Dec 18:00"},
		{"es", "Mon 2 Jan 15:04", fri, "vie 4 dic 18:00"},
		{"de", "Mon 2 Jan 15:04", fri, "Fr 4 Dez 18:00"},
		{"es", "Monday 2 January 2006", fri, "viernes 4 diciembre 2026"},
		{"de", "Monday, 2 January", may, "Montag, 3 Mai"},
		{"es", "2 Jan", may, "3 mayo"},
		{"es", "15:04:05", may, "09:05:00"},
		{"xx", "Mon 2 Jan", fri, "Fri 4 Dec"},
	} {
		if got := FormatTime(tc.lang, tc.t, tc.layout); got != tc.want {
			t.Errorf("FormatTime(%s, %q) = %q, want %q", tc.lang, tc.layout, got, tc.want)
		}
	}
}

func TestEnglishName(t *testing.T) {
	for word, want := range map[string]string{
		"viernes": "Friday", "Miércoles": "Wednesday", "miercoles": "Wednesday", "SÁBADO": "Saturday",
		"Freitag": "Friday", "März": "March", "maerz": "March", "Marz": "March", "diciembre": "December", "Mai": "May",
	} {
		if got, ok := EnglishName(word); !ok || got != want {
			t.Errorf("EnglishName(%q) = %q %v, want %q", word, got, ok, want)
		}
	}
	for _, word := range []string{"friday", "mar", "vie", "Fr", "banana", ""} {
		if got, ok := EnglishName(word); ok {
			t.Errorf("EnglishName(%q) = %q: only full names of other languages are read", word, got)
		}
	}
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 1, "one"}, {"en", 0, "other"}, {"en", 2, "other"},
		{"es", 1, "one"}, {"es", 0, "other"}, {"de", 1, "one"}, {"de", 21, "other"}, {"xx", 1, "one"}, {"en", -1, "one"},
	} {
		if got := Form(tc.lang, tc.n); got != tc.want {
			t.Errorf("Form(%s, %d) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
	if got := Plural("en", 1, "%d vote", "%d votes"); got != "%d vote" {
		t.Errorf("English one: %q", got)
	}
	if got := Plural("en", 3, "%d vote", "%d votes"); got != "%d votes" {
		t.Errorf("English other: %q", got)
	}
	// The catalogs' own forms, not the English ones.
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{{"es", 1, "%d día"}, {"es", 2, "%d días"}, {"de", 1, "%d Tag"}, {"de", 0, "%d Tage"}} {
		if got := Plural(tc.lang, tc.n, "%d day", "%d days"); got != tc.want {
			t.Errorf("Plural(%s, %d, day) = %q, want %q", tc.lang, tc.n, got, tc.want)
		}
	}
}

func TestLookup(t *testing.T) {
	for code, want := range map[string]string{"es": "es", "ES": "es", "es-AR": "es", "de_AT": "de", " en ": "en"} {
		if l, ok := Lookup(code); !ok || l.Code != want {
			t.Errorf("Lookup(%q) = %v %v, want %s", code, l.Code, ok, want)
		}
	}
	for _, code := range []string{"", "pt", "e", "../es", "es/*"} {
		if l, ok := Lookup(code); ok {
			t.Errorf("Lookup(%q) found %s", code, l.Code)
		}
	}
	if !slices.Equal(Codes(), []string{"de", "en", "es"}) {
		t.Errorf("Codes() = %v", Codes())
	}
}

func TestLoad(t *testing.T) {
	fsys := fstest.MapFS{
		"catalog/es/a.json": {Data: []byte(`{"Hello": "Hola", "%d votes": {"one": "%d voto", "other": "%d votos"}}`)},
		"catalog/es/b.json": {Data: []byte(`{"Bye": "Adiós"}`)},
		"catalog/de/a.json": {Data: []byte(`{"Hello": "Hallo"}`)},
	}
	got, err := load(fsys, "es")
	if err != nil || got["Hello"].text != "Hola" || got["Bye"].text != "Adiós" || got["%d votes"].forms["one"] != "%d voto" || len(got) != 3 {
		t.Fatalf("load es = %+v, %v", got, err)
	}
	fsys["catalog/es/c.json"] = &fstest.MapFile{Data: []byte(`{"Hello": "Buenas"}`)}
	if _, err := load(fsys, "es"); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a key in two files: %v", err)
	}
	fsys["catalog/es/c.json"] = &fstest.MapFile{Data: []byte(`{"Hello": 3}`)}
	if _, err := load(fsys, "es"); err == nil {
		t.Error("a value neither text nor forms was read")
	}
	if got, err := load(fsys, "pt"); err != nil || len(got) != 0 {
		t.Errorf("an unknown language: %v %v", got, err)
	}
}

func TestPlaceholders(t *testing.T) {
	for format, want := range map[string][]string{
		"Motion #%d: %s":         {"1:d", "2:s"},
		"%[2]s y %[1]d":          {"1:d", "2:s"},
		"50%% of %d":             {"1:d"},
		"%[2]s then %s":          {"2:s", "3:s"},
		"no placeholders":        nil,
		"broken %[":              {"bad:["},
		"%[1]":                   {"bad:"},
		"trailing %":             nil,
		"%s, %s and %[1]s again": {"1:s", "1:s", "2:s"},
	} {
		if got := Placeholders(format); !slices.Equal(got, want) {
			t.Errorf("Placeholders(%q) = %v, want %v", format, got, want)
		}
	}
}
