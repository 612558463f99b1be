package msg

import (
	"strings"
	"testing"

	"maunium.net/go/mautrix/id"
)

func TestF(t *testing.T) {
	for _, tc := range []struct {
		name       string
		format     string
		args       []any
		body, html string
	}{
		{"plain", "hello", nil, "hello", "hello"},
		{"bold and code", "**Motion #%d** `!vote %d yes`", []any{3, 3},
			"Motion #3 `!vote 3 yes`", "<strong>Motion #3</strong> <code>!vote 3 yes</code>"},
		{"markup in args is text", "said: %s", []any{"<b>**hi**</b> `x`"},
			"said: <b>**hi**</b> `x`", "said: &lt;b&gt;**hi**&lt;/b&gt; `x`"},
		{"script", "%s", []any{"<script>alert(1)</script>"},
			"<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"},
		{"newlines", "a\nb %s", []any{"c\nd"}, "a\nb c\nd", "a<br>b c<br>d"},
		{"room ping broken", "%s", []any{"hey @room and @ROOM"},
			"hey @\u2060room and @\u2060ROOM", "hey @\u2060room and @\u2060ROOM"},
		{"unicode", "✅ %s — ok", []any{"Zoë 👍🏽"}, "✅ Zoë 👍🏽 — ok", "✅ Zoë 👍🏽 — ok"},
		{"percent", "50%% of %d", []any{12}, "50% of 12", "50% of 12"},
		{"single star", "a * b", nil, "a * b", "a * b"},
		{"unclosed bold", "**x", nil, "x", "<strong>x</strong>"},
		{"raw pill", "hi %s", []any{Pill("@ana:example.org")},
			"hi @ana:example.org", `hi <a href="https://matrix.to/#/@ana:example.org">@ana:example.org</a>`},
		{"a member called @room", "hi %s and %s", []any{Pill("@room:example.org"), id.UserID("@Room:example.org")},
			"hi @\u2060room:example.org and @\u2060Room:example.org",
			"hi <a href=\"https://matrix.to/#/@room:example.org\">@\u2060room:example.org</a> and @\u2060Room:example.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := F(tc.format, tc.args...)
			if m.Body != tc.body {
				t.Errorf("body = %q, want %q", m.Body, tc.body)
			}
			if m.HTML != tc.html {
				t.Errorf("html = %q, want %q", m.HTML, tc.html)
			}
		})
	}
}

func TestAppendMentionWith(t *testing.T) {
	m := F("one").Append("two %s", "<x>").Mention("@a:x", "@a:x", "@b:x").With("quorum.motion", 1)
	if m.Body != "one\ntwo <x>" || m.HTML != "one<br>two &lt;x&gt;" {
		t.Errorf("append: %q %q", m.Body, m.HTML)
	}
	if len(m.Mentions) != 2 || m.Mentions[1] != id.UserID("@b:x") {
		t.Errorf("mentions = %v", m.Mentions)
	}
	if m.Fields["quorum.motion"] != 1 {
		t.Errorf("fields = %v", m.Fields)
	}
}

func FuzzSafe(f *testing.F) {
	f.Add("hello @room")
	f.Add("@ROOM @Room İ@room")
	// The edges: nothing, the bare word, runs and overlaps, cases whose
	// lower-casing changes length (İ, Kelvin sign), look-alikes that are not
	// "@room", invisible characters inside it, markup, line breaks, invalid
	// UTF-8, a long input.
	for _, s := range []string{
		"", "@", "@room", "@@room", "@room@room", "@roomroom", "@ro@room", "room@", "@Room.", "(@room)",
		"\u212a@room", "@room\u0130", "İİİ@ROOM", "ǅ@room", "ẞ@rOoM",
		"＠room", "@ｒｏｏｍ", "@rооm", "@r\u200boom", "@\u2060room", "@room\u200d",
		"<b>@room</b>", "&lt;@room&gt;", "**@room**", "`@room`", "<script>@room</script>",
		"\n@room\n", "\r\n@room", "@room\x00", "\xff@room", "@roo\xffm", "\xc3@room",
		strings.Repeat("@room ", 1000), strings.Repeat("İ", 500) + "@room",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Safe(s)
		if strings.Contains(strings.ToLower(out), "@room") {
			t.Fatalf("Safe(%q) = %q still pings", s, out)
		}
		m := F("%s", s)
		if strings.Contains(strings.ReplaceAll(m.HTML, "<br>", ""), "<") {
			t.Fatalf("markup appeared: %q", m.HTML)
		}
	})
}
