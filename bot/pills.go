package bot

import (
	"context"
	"slices"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/format"

	"quorum/commands"
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

// commandText is the text of a message for command parsing: a command in
// structured form (MSC4391) addressed to the bot, as the line it stands
// for, or else the text of the message (below).
func (b *Bot) commandText(content *event.MessageEventContent) string {
	if content.MSC4391BotCommand != nil && content.Mentions != nil && slices.Contains(content.Mentions.UserIDs, b.cli.UserID) {
		// Addressed to the bot (another bot's command of the same name is
		// not): its descriptions (describe.go) say what the arguments are.
		if line, ok := commands.Structured(content.MSC4391BotCommand, b.cfg.CommandPrefixes[0]); ok {
			return line
		}
	}
	return commandText(content)
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
