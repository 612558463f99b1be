package commands

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"

	"maunium.net/go/mautrix/id"

	"quorum/msg"
)

// Plural returns "1 vote", "2 votes".
//
// Deprecated: it is English in every language; use msg.N.
func Plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// ParseNumber reads a motion, poll or session number: "3" or "#3".
func ParseNumber(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(s), "#"))
	return n, err == nil && n > 0
}

// Shorten cuts s to n runes on one line, with an ellipsis.
func Shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// UserList is "@a", "@a and @b", "@a, @b and @c", in the reader's
// language.
func UserList(users []id.UserID) msg.Text {
	s := make([]string, len(users))
	for i, u := range users {
		s[i] = u.String()
	}
	return JoinAnd(s)
}

// JoinAnd is "a", "a and b", "a, b and c", in the reader's language.
func JoinAnd(s []string) msg.Text {
	items := make([]any, len(s))
	for i, x := range s {
		items[i] = x
	}
	return JoinAndItems(items)
}

// JoinAndItems is JoinAnd of items that render themselves (texts, pills).
func JoinAndItems(items []any) msg.Text {
	if len(items) <= 1 {
		return msg.List("", items...)
	}
	return msg.T("%s and %s", msg.List(", ", items[:len(items)-1]...), items[len(items)-1])
}

// RoomLink links to a room (its ID comes from the server, never a user).
func RoomLink(room id.RoomID) msg.Raw {
	return msg.Raw{Body: room.String(),
		HTML: fmt.Sprintf(`<a href="%s">%s</a>`, html.EscapeString(room.URI().MatrixToURL()), html.EscapeString(room.String()))}
}

// WordIndex is the index of the first word equal to w (any case), or
// len(words).
func WordIndex(words []string, w string) int {
	for i, x := range words {
		if strings.EqualFold(x, w) {
			return i
		}
	}
	return len(words)
}

// SplitColon splits a command at its separator: the first colon with white
// space (or the end) on one side. Colons inside times ("18:00") and user IDs
// ("@ana:example.org") are not separators.
func SplitColon(s string) (head, tail string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] != ':' {
			continue
		}
		before := i == 0 || isSpace(rune(s[i-1]))
		after := i+1 == len(s) || isSpace(rune(s[i+1]))
		if before || after {
			return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:]), true
		}
	}
	return s, "", false
}

// IsMention says whether a word is meant as a member (@ana, @ana:example.org).
func IsMention(w string) bool { return strings.HasPrefix(w, "@") }

// Latest is the later of two times.
func Latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Earliest is the earlier of two times.
func Earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Sooner is the earlier of two scheduled times, where zero means "nothing
// scheduled".
func Sooner(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// MessageBudget is how many bytes of text one message made from a long list
// may carry. Matrix refuses an event over 64 KiB, and a message's text goes
// out two or three times (plain, HTML, a content field) in an encrypted
// event a third longer again: the 1,000 receipts of a secret ballot, about
// 17 bytes of text each, made an event of 79,642 bytes, which the
// homeserver refused, and no result was posted.
const MessageBudget = 8000

// Portions splits items, in order, into runs of at most budget bytes by
// size (a run holds one item at least): a list too long for one message
// goes out in several.
func Portions[T any](items []T, size func(T) int, budget int) [][]T {
	var out [][]T
	start, used := 0, 0
	for i, item := range items {
		n := size(item)
		if i > start && used+n > budget {
			out = append(out, items[start:i])
			start, used = i, 0
		}
		used += n
	}
	if start < len(items) {
		out = append(out, items[start:])
	}
	return out
}
