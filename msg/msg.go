// Package msg is what the bot says: a message with a plain body and HTML,
// the members it mentions, machine-readable quorum.* fields, and where it
// goes (a reply, an anchor). The rules in package commands build messages;
// package bot turns them into Matrix events.
//
// Messages are written with F, a tiny template language: the format string
// may use **bold**, `code` and newlines; arguments are always literal text.
// Untrusted text (a motion's wording, a display name) is therefore never
// parsed as markup: in HTML it is escaped, in both bodies "@room" is broken
// so that quoting a member never pings the whole room.
package msg

import (
	"encoding/json"
	"fmt"
	"html"
	"slices"
	"strings"

	"maunium.net/go/mautrix/id"
)

// Message is an m.notice the bot sends. It is stored as JSON in the outbox,
// so its fields are a stable encoding, not just an in-memory value.
type Message struct {
	Body     string         `json:"body"`
	HTML     string         `json:"html,omitempty"`
	Mentions []id.UserID    `json:"mentions,omitempty"`
	Fields   map[string]any `json:"fields,omitempty"` // quorum.* content fields
	// ReplyTo makes the message a rich reply to that event.
	ReplyTo id.EventID `json:"reply_to,omitempty"`
	// ReplyToAnchor makes it a reply to the message that stands for an
	// anchor (a motion's notice), looked up when it is sent.
	ReplyToAnchor *Anchor `json:"reply_to_anchor,omitempty"`
	// Anchor records the sent event as standing for something.
	Anchor *Anchor `json:"anchor,omitempty"`
	// Edit makes the message replace the anchor's message (m.replace).
	Edit *Anchor `json:"edit,omitempty"`
	// Plaintext lets the message go to an unencrypted room. Only the notice
	// that the bot needs encryption has it: everything else is refused
	// rather than sent in the clear.
	Plaintext bool `json:"plaintext,omitempty"`
	// PadTo, if set, pads the event so that what is encrypted is exactly
	// PadTo bytes long (or the next multiple of PadTo), whatever the
	// message says and whoever it goes to: the homeserver sees the length
	// of every ciphertext. Receipts of secret ballots have it.
	PadTo int `json:"pad_to,omitempty"`
	// parts are what Body and HTML were rendered from, kept so that the
	// message can be rendered again in the reader's language (Localize).
	// They are not stored: the outbox holds the message as it is sent.
	parts []Text
}

// Anchor names a thing in the bot's state that a message stands for.
type Anchor struct {
	Kind string `json:"kind"`
	Ref  int64  `json:"ref"`
}

// Event is an event of another type than m.room.message that the bot sends
// (a poll's start or end), encrypted like its messages. Its content is
// built by the rules; text in it comes from them, never as markup.
type Event struct {
	Type    string         `json:"type"`
	Content map[string]any `json:"content"`
	// Reference makes the event an m.reference to the message that stands
	// for an anchor (the poll it ends), looked up when it is sent.
	Reference *Anchor `json:"reference,omitempty"`
	// Anchor records the sent event as standing for something.
	Anchor *Anchor `json:"anchor,omitempty"`
}

// File is an attachment the bot sends encrypted.
type File struct {
	Name     string     `json:"name"`
	MimeType string     `json:"mime_type"`
	Data     []byte     `json:"data"`
	Caption  string     `json:"caption,omitempty"`
	ReplyTo  id.EventID `json:"reply_to,omitempty"`
}

// PowerLevel asks the bot to set a member's power level in a room.
type PowerLevel struct {
	User  id.UserID `json:"user"`
	Level int       `json:"level"`
	// Reason is said in the room if the bot lacks the power to do it.
	Reason string `json:"reason"`
	// From, if set, makes the change conditional: it is made only if the
	// member's level is still From when it is sent, so that a level someone
	// changed meanwhile is left alone.
	From *int `json:"from,omitempty"`
}

// Redaction asks the bot to remove an event from a room (a member's message
// that gave away a private place). IfRefused is said in the room when the
// bot lacks the power to do it.
type Redaction struct {
	Event     id.EventID `json:"event"`
	Reason    string     `json:"reason"`
	IfRefused string     `json:"if_refused"`
}

// Raw is a string inserted into a message as markup, unescaped. Only the
// bot's own code makes Raw values (a mention pill), never user input.
type Raw struct{ Body, HTML string }

// F formats a message in English; Localize renders it again in the
// reader's language. See the package comment for the syntax.
func F(format string, args ...any) Message { return Message{}.AppendText(T(format, args...)) }

// FromText makes a message of t.
func FromText(t Text) Message { return Message{}.AppendText(t) }

// Append adds a formatted line (after a newline) to m.
func (m Message) Append(format string, args ...any) Message {
	return m.AppendText(T(format, args...))
}

// AppendText adds t as a line (after a newline) to m.
func (m Message) AppendText(t Text) Message {
	// Clip: m is a value, and two appends to copies of it must not share
	// the slice's free capacity.
	m.parts = append(slices.Clip(m.parts), t)
	m.Body, m.HTML = m.render(Default)
	return m
}

// AppendMessage adds other's lines to m, after a newline.
func (m Message) AppendMessage(other Message) Message {
	if other.parts == nil && other.Body != "" {
		return m.AppendText(T("%s", Raw{Body: other.Body, HTML: other.HTML}))
	}
	for _, t := range other.parts {
		m = m.AppendText(t)
	}
	return m
}

// Localize renders m again in lang. A message made without F (none is)
// stays as it is.
func (m Message) Localize(lang string) Message {
	if len(m.parts) > 0 {
		m.Body, m.HTML = m.render(lang)
	}
	return m
}

func (m Message) render(lang string) (body, htm string) {
	var b, h strings.Builder
	for _, t := range m.parts {
		tb, th := t.render(lang)
		if b.Len() > 0 {
			b.WriteString("\n")
			h.WriteString("<br>")
		}
		b.WriteString(tb)
		h.WriteString(th)
	}
	return b.String(), h.String()
}

// With sets a machine-readable content field.
func (m Message) With(key string, value any) Message {
	if m.Fields == nil {
		m.Fields = map[string]any{}
	}
	m.Fields[key] = value
	return m
}

// Mention adds user to the message's m.mentions.
func (m Message) Mention(users ...id.UserID) Message {
	for _, u := range users {
		if !containsUser(m.Mentions, u) {
			m.Mentions = append(m.Mentions, u)
		}
	}
	return m
}

func containsUser(list []id.UserID, u id.UserID) bool {
	for _, x := range list {
		if x == u {
			return true
		}
	}
	return false
}

// Pill links to a user the way clients show mentions. It does not add the
// user to m.mentions: call Mention for that, so only intended people are
// notified.
func Pill(user id.UserID) Raw {
	// A user may be called @room:server: the text of the pill must not
	// ping the room either.
	return Raw{
		Body: Safe(user.String()),
		HTML: fmt.Sprintf(`<a href="%s">%s</a>`, html.EscapeString(user.URI().MatrixToURL()), html.EscapeString(Safe(user.String()))),
	}
}

// Safe breaks "@room" (any case) in untrusted text so that it never
// notifies a room. A word joiner after the @ keeps it readable.
func Safe(s string) string {
	lower := strings.ToLower(s)
	if !strings.Contains(lower, "@room") {
		return s
	}
	if len(lower) != len(s) {
		// Lower-casing changed byte offsets (rare scripts): break every @,
		// which is always safe.
		return strings.ReplaceAll(s, "@", "@\u2060")
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, "@room")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+1])
		b.WriteString("\u2060")
		s, lower = s[i+1:], lower[i+1:]
	}
}

// Marshal encodes v for the outbox.
func Marshal(v any) json.RawMessage {
	data, err := json.Marshal(v)
	if err != nil {
		// Only the bot's own types are marshalled; failing here is a bug.
		panic(fmt.Errorf("msg: marshal %T: %w", v, err))
	}
	return data
}

// Membership asks the bot to invite a user into a room (User set), to
// remove them from it (User and Kick set), to join the room itself (User
// empty), or to leave it (Leave).
type Membership struct {
	User   id.UserID `json:"user,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Leave  bool      `json:"leave,omitempty"`
	Kick   bool      `json:"kick,omitempty"`
	// IfRefused is said in the room instead when the bot lacks the power
	// to invite or remove the user (nothing if empty).
	IfRefused string `json:"if_refused,omitempty"`
}
