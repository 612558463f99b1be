package bot

import (
	"testing"

	"maunium.net/go/mautrix/event"
)

func TestCommandText(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    event.MessageEventContent
		want string
	}{
		{"plain", event.MessageEventContent{Body: "!help"}, "!help"},
		{"pill from Element", event.MessageEventContent{
			Body: "!delegate Ana Lopez treasurer : keep the books", Format: event.FormatHTML,
			FormattedBody: `!delegate <a href="https://matrix.to/#/@ana:example.org">Ana Lopez</a> treasurer : keep the books`,
		}, "!delegate @ana:example.org treasurer : keep the books"},
		{"html without pills keeps the body", event.MessageEventContent{
			Body: "!motion **x**", Format: event.FormatHTML, FormattedBody: "!motion <strong>x</strong>",
		}, "!motion **x**"},
		{"room link is not a user", event.MessageEventContent{
			Body: "!motion see #general and Ana", Format: event.FormatHTML,
			FormattedBody: `!motion see <a href="https://matrix.to/#/#general:x">#general</a> and <a href="https://matrix.to/#/@ana:x">Ana</a>`,
		}, "!motion see #general and @ana:x"},
	} {
		if got := commandText(&tc.c); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
