package msg

import (
	"encoding/json"
	"testing"
)

// These tests use the shipped catalogs (package locale): their keys are
// messages of the bot.

func TestLocalize(t *testing.T) {
	m := F("%s isn't a member of this room.", Pill("@ana:example.org"))
	for lang, want := range map[string][2]string{
		"en": {"@ana:example.org isn't a member of this room.",
			`<a href="https://matrix.to/#/@ana:example.org">@ana:example.org</a> isn&#39;t a member of this room.`},
		"es": {"@ana:example.org no es miembro de esta sala.",
			`<a href="https://matrix.to/#/@ana:example.org">@ana:example.org</a> no es miembro de esta sala.`},
		"de": {"@ana:example.org ist nicht Mitglied dieses Raums.",
			`<a href="https://matrix.to/#/@ana:example.org">@ana:example.org</a> ist nicht Mitglied dieses Raums.`},
		"xx": {"@ana:example.org isn't a member of this room.", // not shipped: English
			`<a href="https://matrix.to/#/@ana:example.org">@ana:example.org</a> isn&#39;t a member of this room.`},
	} {
		got := m.Localize(lang)
		if got.Body != want[0] || got.HTML != want[1] {
			t.Errorf("%s:\n got %q\n     %q\nwant %q\n     %q", lang, got.Body, got.HTML, want[0], want[1])
		}
	}
	if m.Body != "@ana:example.org isn't a member of this room." {
		t.Errorf("Localize changed the original: %q", m.Body)
	}
	// A message decoded from the outbox has no parts: it stays as it is.
	var stored Message
	if err := json.Unmarshal(Marshal(m), &stored); err != nil {
		t.Fatal(err)
	}
	if got := stored.Localize("es"); got.Body != m.Body || got.HTML != m.HTML {
		t.Errorf("stored message re-rendered: %q", got.Body)
	}
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 0, "0 days"}, {"en", 1, "1 day"}, {"en", 2, "2 days"}, {"en", -1, "-1 day"},
		{"es", 0, "0 días"}, {"es", 1, "1 día"}, {"es", 2, "2 días"}, {"es", 1000000, "1000000 días"},
		{"de", 0, "0 Tage"}, {"de", 1, "1 Tag"}, {"de", 21, "21 Tage"},
	} {
		if got := N(tc.n, "%d day", "%d days").In(tc.lang); got != tc.want {
			t.Errorf("N(%d) in %s = %q, want %q", tc.n, tc.lang, got, tc.want)
		}
	}
	// As an argument, translated with its message.
	if got := F("%s %dh", N(1, "%d day", "%d days"), 4).Localize("es").Body; got != "1 día 4h" {
		t.Errorf("plural argument: %q", got)
	}
}

func TestList(t *testing.T) {
	l := List(", ", T("`%s`", "!vote"), "a <b>", Raw{Body: "*r*", HTML: "<i>r</i>"}, T("a time"))
	body, htm := l.render("es")
	if body != "`!vote`, a <b>, *r*, un momento" || htm != "<code>!vote</code>, a &lt;b&gt;, <i>r</i>, un momento" {
		t.Errorf("list: %q %q", body, htm)
	}
	if got := List(" & ").In("de"); got != "" {
		t.Errorf("empty list: %q", got)
	}
}

func TestReorder(t *testing.T) {
	body, htm := render("en", "%[2]s before **%[1]s**, then %s", []any{"one", "two <2>", "three"})
	if body != "two <2> before one, then two <2>" || htm != "two &lt;2&gt; before <strong>one</strong>, then two &lt;2&gt;" {
		t.Errorf("reorder: %q %q", body, htm)
	}
	for _, bad := range []string{"%[9]s", "%[x]s", "%[2", "%[1]"} {
		if body, _ := render("en", bad, []any{"a"}); body == "" {
			t.Errorf("%q rendered nothing", bad)
		}
	}
}

func TestAppendMessage(t *testing.T) {
	head := F("**Examples**")
	m := head.AppendMessage(F("Also: %s", "x").Append("Try %s.", "y"))
	if got := m.Localize("de"); got.Body != "Beispiele\nAuch: x\nVersuch y." || got.HTML != "<strong>Beispiele</strong><br>Auch: x<br>Versuch y." {
		t.Errorf("de: %q %q", got.Body, got.HTML)
	}
	// A message without parts (from the outbox) is appended as it reads.
	stored := Message{Body: "*kept*", HTML: "<em>kept</em>"}
	if got := head.AppendMessage(stored).Localize("es"); got.Body != "Ejemplos\n*kept*" || got.HTML != "<strong>Ejemplos</strong><br><em>kept</em>" {
		t.Errorf("stored: %q %q", got.Body, got.HTML)
	}
	if head.Localize("es").Body != "Ejemplos" {
		t.Errorf("AppendMessage changed its receiver")
	}
}

// TestAppendCopies appends to two copies of one message whose parts have
// room to grow: neither may write into the other's (slices.Clip).
func TestAppendCopies(t *testing.T) {
	base := F("a").Append("b").Append("c") // 3 parts, capacity 4
	x := base.Append("d")
	y := base.Append("e")
	if got := x.Localize("en").Body; got != "a\nb\nc\nd" {
		t.Errorf("x = %q", got)
	}
	if got := y.Localize("en").Body; got != "a\nb\nc\ne" {
		t.Errorf("y = %q", got)
	}
	z := base.AppendText(T("f"))
	if got := x.Localize("es").Body; got != "a\nb\nc\nd" || z.Body != "a\nb\nc\nf" {
		t.Errorf("after AppendText: x = %q, z = %q", got, z.Body)
	}
}

func TestPlain(t *testing.T) {
	p := Plain("a share (`50%`) of **all**, 100%")
	if body, htm := p.render("de"); body != "a share (`50%`) of all, 100%" || htm != "a share (<code>50%</code>) of <strong>all</strong>, 100%" {
		t.Errorf("plain: %q %q", body, htm)
	}
	if got := Plain("Also: %s").In("es"); got != "También: %s" {
		t.Errorf("plain translated: %q", got)
	}
}

// TestMissingArguments: a format with more verbs than arguments says so
// where they are missing, and a bad index too, instead of failing.
func TestMissingArguments(t *testing.T) {
	for format, want := range map[string]string{
		"%s and %s":    "a and %!(MISSING)",
		"%[3]s and %s": "%!(MISSING) and %!(MISSING)",
		"%[0]s":        "%!(MISSING)",
		"%[x]s":        "%[x]s",
	} {
		if got := F(format, "a").Body; got != want {
			t.Errorf("F(%q, a) = %q, want %q", format, got, want)
		}
	}
}
