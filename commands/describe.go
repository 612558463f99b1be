package commands

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"

	"quorum/locale"
	"quorum/msg"
)

// Command descriptions (MSC4391): the bot publishes each command as an
// org.matrix.msc4391.command_description state event in the rooms it is
// in, so that clients that support it offer completion and help; such a
// client may then send a command in structured form, which Structured
// turns back into the text the registry reads. The description comes from
// the registry, like !help, so it cannot drift from what exists.

// argsParam is the one parameter of every described command: the rest of
// the command line, as typed after its name.
const argsParam = "args"

// Descriptions describes every command of the registry, in !help order,
// in lang.
func (d *Dispatcher) Descriptions(lang string) []*cmdschema.EventContent {
	var out []*cmdschema.EventContent
	for _, c := range d.registry.All() {
		text := catalog(c.Summary).In(lang)
		if usages := c.Usages(); len(usages) > 0 {
			text += " — " + strings.Join(usages, " · ")
		}
		out = append(out, &cmdschema.EventContent{
			Command:     c.Name,
			Aliases:     c.Aliases,
			Description: event.MakeExtensibleText(text),
			Parameters: []*cmdschema.Parameter{{
				Key:         argsParam,
				Schema:      cmdschema.PrimitiveTypeString.Schema(),
				Optional:    true,
				Description: event.MakeExtensibleText(msg.T("what follows the command, as in %s", "!help "+c.Name).In(lang)),
			}},
			TailParam: argsParam,
		})
	}
	return out
}

// DescriptionsVersion is a digest that changes whenever Descriptions(lang)
// does, computed without building them in lang: from the English
// descriptions (the registry) and lang's catalog as embedded. The bot keeps
// it between rounds, not the descriptions, and so loads a language's
// catalog only for a room that speaks it.
func (d *Dispatcher) DescriptionsVersion(lang string) string {
	data, _ := json.Marshal(d.Descriptions(locale.Default))
	sum := sha256.Sum256(append(data, locale.Digest(lang)...))
	return hex.EncodeToString(sum[:])
}

// Structured turns a command sent in structured form (MSC4391) into the
// command line the registry reads, with prefix; ok is false if in is not
// one of the described commands' form.
func Structured(in *event.MSC4391BotCommandInput, prefix string) (string, bool) {
	if in == nil || !isWord(in.Command) {
		return "", false
	}
	line := prefix + in.Command
	if len(in.Arguments) > 0 && string(in.Arguments) != "null" {
		var args map[string]json.RawMessage
		if err := json.Unmarshal(in.Arguments, &args); err != nil {
			return "", false
		}
		if raw, ok := args[argsParam]; ok {
			var rest string
			if err := json.Unmarshal(raw, &rest); err != nil {
				return "", false
			}
			if rest = strings.TrimSpace(rest); rest != "" {
				line += " " + rest
			}
		}
	}
	return line, true
}
