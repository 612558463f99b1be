package timespec

import (
	"strings"
	"testing"
	"time"
)

// names are times typed with the day and month names of the shipped
// languages, with and without accents and capitals.
var names = []struct {
	in   string
	want time.Time
}{
	{"viernes 18:00", time.Date(2026, 11, 27, 18, 0, 0, 0, berlin)},
	{"Viernes 18:00", time.Date(2026, 11, 27, 18, 0, 0, 0, berlin)},
	{"Freitag 18:00", time.Date(2026, 11, 27, 18, 0, 0, 0, berlin)},
	{"FREITAG 18:00", time.Date(2026, 11, 27, 18, 0, 0, 0, berlin)},
	{"miércoles 9:30", time.Date(2026, 12, 2, 9, 30, 0, 0, berlin)},
	{"miercoles 9:30", time.Date(2026, 12, 2, 9, 30, 0, 0, berlin)},
	{"sábado", time.Date(2026, 11, 28, DefaultHour, 0, 0, 0, berlin)},
	{"sabado", time.Date(2026, 11, 28, DefaultHour, 0, 0, 0, berlin)},
	{"next lunes 6pm", time.Date(2026, 11, 30, 18, 0, 0, 0, berlin)},
	{"Montag at 18:00", time.Date(2026, 11, 30, 18, 0, 0, 0, berlin)},
	{"1 diciembre 18:00", time.Date(2026, 12, 1, 18, 0, 0, 0, berlin)},
	{"1 Dezember 18:00", time.Date(2026, 12, 1, 18, 0, 0, 0, berlin)},
	{"3 März 2027", time.Date(2027, 3, 3, DefaultHour, 0, 0, 0, berlin)},
	{"3 maerz 2027", time.Date(2027, 3, 3, DefaultHour, 0, 0, 0, berlin)},
	{"3 Marz 2027", time.Date(2027, 3, 3, DefaultHour, 0, 0, 0, berlin)},
	{"friday 18:00", time.Date(2026, 11, 27, 18, 0, 0, 0, berlin)}, // English stays
	{"2026-12-01T18:00", time.Date(2026, 12, 1, 18, 0, 0, 0, berlin)},
}

func TestMomentNames(t *testing.T) {
	for _, tc := range names {
		got, err := Moment(tc.in, friday17, berlin)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("Moment(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"domingo", "Sonntag", "jueves", "Donnerstag"} {
		if _, err := ParseRecurrence(in); err != nil {
			t.Errorf("ParseRecurrence(%q): %v", in, err)
		}
	}
}

// TestErrorInLanguage checks that a parse error is worded in the reader's
// language, names included, and stays English in Error.
func TestErrorInLanguage(t *testing.T) {
	_, err := Moment("25:00", friday17, berlin)
	e := friendly(t, "25:00", err)
	if got := e.Text().In("es"); !strings.HasPrefix(got, `"25:00" no es una hora del día`) {
		t.Errorf("es: %q", got)
	}
	if got := e.Text().In("de"); !strings.HasPrefix(got, `"25:00" ist keine Uhrzeit`) {
		t.Errorf("de: %q", got)
	}
	_, err = Date("fri 1 dec 2026", friday17, berlin)
	e = friendly(t, "fri 1 dec 2026", err)
	for lang, want := range map[string]string{
		"en": `"fri 1 dec 2026": 1 Dec 2026 is a Tuesday, not a Friday.`,
		"es": `"fri 1 dec 2026": el 1 dic 2026 es martes, no viernes.`,
		"de": `"fri 1 dec 2026": Der 1 Dez 2026 ist ein Dienstag, kein Freitag.`,
	} {
		if got := e.Text().In(lang); got != want {
			t.Errorf("%s:\n got %q\nwant %q", lang, got, want)
		}
	}
	if e.Error() != e.Text().In("en") {
		t.Errorf("Error() = %q, not the English", e.Error())
	}
}

// TestRecurrenceLocalize: a repeat reads in the reader's language, and in
// English as its String.
func TestRecurrenceLocalize(t *testing.T) {
	for _, tc := range []struct{ in, es, de string }{
		{"week", "cada semana", "jede Woche"},
		{"day", "cada día", "jeden Tag"},
		{"month", "cada mes", "jeden Monat"},
		{"year", "cada año", "jedes Jahr"},
		{"2 weeks", "cada 2 semanas", "alle 2 Wochen"},
		{"3 days", "cada 3 días", "alle 3 Tage"},
		{"2 months", "cada 2 meses", "alle 2 Monate"},
		{"2 years", "cada 2 años", "alle 2 Jahre"},
		{"tuesday", "cada martes", "jeden Dienstag"},
		{"monday and thursday", "cada lunes y jueves", "jeden Montag und Donnerstag"},
		{"mon, wed and fri", "cada lunes, miércoles y viernes", "jeden Montag, Mittwoch und Freitag"},
		{"weekday", "cada día laborable", "jeden Werktag"},
		{"every 2 weeks on monday", "cada 2 semanas: lunes", "alle 2 Wochen am Montag"},
		{"every 2 weeks on monday and sabado", "cada 2 semanas: lunes y sábado", "alle 2 Wochen am Montag und Samstag"},
		{"every 2 weeks on weekdays", "cada 2 semanas, de lunes a viernes", "alle 2 Wochen werktags"},
	} {
		r, err := ParseRecurrence(tc.in)
		if err != nil {
			t.Fatalf("ParseRecurrence(%q): %v", tc.in, err)
		}
		if got := r.Localize("en"); got != r.String() {
			t.Errorf("%q in English = %q, String %q", tc.in, got, r.String())
		}
		if got := r.Localize("es"); got != tc.es {
			t.Errorf("%q in es = %q, want %q", tc.in, got, tc.es)
		}
		if got := r.Localize("de"); got != tc.de {
			t.Errorf("%q in de = %q, want %q", tc.in, got, tc.de)
		}
	}
	if got := (Recurrence{}).Localize("es"); got != "" {
		t.Errorf("invalid: %q", got)
	}
}
