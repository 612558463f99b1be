package bot

import (
	"context"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"
)

// pillParser turns formatted bodies into text in which a mention pill is the
// user ID itself. Element puts only the display name of a mentioned member
// in the plain body ("!delegate Ana treasurer : …"); the ID is in the pill's
// link. Commands need the ID.
var pillParser = &format.HTMLParser{
	TabsToSpaces: 4,
	Newline:      "\n",
	PillConverter: func(displayname, mxid, eventID string, _ format.Context) string {
		if strings.HasPrefix(mxid, "@") && eventID == "" {
			return mxid
		}
		return displayname
	},
}

// commandText is the text of a message for command parsing: the plain body,
// or, when the message has mention pills, its formatted body with each pill
// made a user ID.
func commandText(content *event.MessageEventContent) string {
	if content.Format != event.FormatHTML || !strings.Contains(content.FormattedBody, "matrix.to/#/@") {
		return content.Body
	}
	return strings.TrimSpace(pillParser.Parse(content.FormattedBody, format.NewContext(context.Background())))
}
