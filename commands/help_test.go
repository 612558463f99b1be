package commands_test

import (
	"strings"
	"testing"

	. "quorum/commands/commandstest"
)

func TestHelp(t *testing.T) {
	h, _, _, _ := toyHarness(t)
	for _, tc := range []struct {
		cmd        string
		body, html string
	}{
		{"!help", "Quorum — direct democracy for this room.\nToys: !echo !fail !boom !prep !timey !widget !gizmo\nMore: !ping\n" +
			"Send `!help <command>` for what one does, with examples. Vote by reacting on a motion: 👍 👎 🤷.",
			"<strong>Quorum</strong> — direct democracy for this room.<br>Toys: <code>!echo</code> <code>!fail</code> <code>!boom</code> " +
				"<code>!prep</code> <code>!timey</code> <code>!widget</code> <code>!gizmo</code><br>More: <code>!ping</code><br>" +
				"Send <code>!help &lt;command&gt;</code> for what one does, with examples. Vote by reacting on a motion: 👍 👎 🤷."},
		{"!help echo", "`!echo <text>` — say it back\nRepeats what you say.\nAlso: `!say`, `!e`\nExamples\n`!echo hi`\n`!echo there`",
			"<code>!echo &lt;text&gt;</code> — say it back<br>Repeats what you say.<br>Also: <code>!say</code>, <code>!e</code><br>" +
				"<strong>Examples</strong><br><code>!echo hi</code><br><code>!echo there</code>"},
		{"!help  !ECHO ", "`!echo <text>` — say it back\nRepeats what you say.\nAlso: `!say`, `!e`\nExamples\n`!echo hi`\n`!echo there`", ""},
		{"!h widget", "`!widget` — widgets\n`!widget make <name>` — make a widget\n`!widget break` — break one\n" +
			"`!widget extra` — from another feature\n`!widget <name> paint <colour>` — paint it", ""},
		{"!help widget nope", "`!widget` — widgets\n`!widget make <name>` — make a widget\n`!widget break` — break one\n" +
			"`!widget extra` — from another feature\n`!widget <name> paint <colour>` — paint it", ""},
		{"!commands widget MAKE", "`!widget make <name>` — make a widget", ""},
		{"!help widget mk", "`!widget make <name>` — make a widget", ""},
		{"!help widget paint", "`!widget <name> paint <colour>` — paint it", ""},
		{"!help gizmo", "`!gizmo <name>` — gizmos\n`!gizmo <name> spin` — spin it\n`!gizmo <name> stop` — stop it\nGizmos do things.", ""},
		{"!help fail", "`!fail` — refuse", ""},
		{"!help nothing", "I don't know `!nothing`. Send `!help` for the list of commands.", ""},
		{"!help ehco", "I don't know `!ehco`. Did you mean `!echo`? Send `!help` for the list.", ""},
		{"!help " + strings.Repeat("z", 40), "I don't know `!" + strings.Repeat("z", 32) + "…`. Send `!help` for the list of commands.", ""},
		{"!help " + strings.Repeat("z", 32), "I don't know `!" + strings.Repeat("z", 32) + "`. Send `!help` for the list of commands.", ""},
	} {
		evt := h.Send(Ana, tc.cmd)
		m := Only(t, h.Drain()).Msg
		if m.ReplyTo != evt {
			t.Errorf("%s: not a reply", tc.cmd)
		}
		if tc.html == "" {
			if m.Body != tc.body {
				t.Errorf("%s\n got %q\nwant %q", tc.cmd, m.Body, tc.body)
			}
			continue
		}
		if m.Body != tc.body || m.HTML != tc.html {
			t.Errorf("%s\n got %q\n     %q\nwant %q\n     %q", tc.cmd, m.Body, m.HTML, tc.body, tc.html)
		}
	}
}
