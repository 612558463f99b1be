package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"maunium.net/go/mautrix/id"

	"quorum/config"
	"quorum/record"
	"quorum/store"
)

// Clock tells the time. Tests use a clock they control; the bot uses the
// system clock.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// Rooms is what the rules may know of a room's membership and powers. The bot
// answers from the state it syncs; tests answer from a table.
type Rooms interface {
	// Members lists the joined members.
	Members(ctx context.Context, room id.RoomID) ([]id.UserID, error)
	// PowerLevel returns user's power level and the level needed to change
	// room state (state_default), which Quorum treats as "moderator".
	PowerLevel(ctx context.Context, room id.RoomID, user id.UserID) (level, moderator int, err error)
}

// AliasResolver is what Rooms may also do: find the room an alias
// (#name:server) points to, asking the homeserver (and through it, the
// alias's server).
type AliasResolver interface {
	ResolveAlias(ctx context.Context, alias id.RoomAlias) (id.RoomID, error)
}

// Env is everything the rules work with.
type Env struct {
	Store  *store.Store
	Config *config.Config
	Clock  Clock
	Rooms  Rooms
	// Bot is the bot's own user ID; it never votes and is never in an
	// electorate.
	Bot id.UserID
	// Key signs the minutes (nil: no signing).
	Key *record.Key
	// Committed, if set, is called after each scheduled item's transaction
	// commits (InTx): the bot wakes its sender then, so that the first of
	// many deadlines due at once is sent while the others are decided.
	Committed func()
}

// Cmd renders a command with the room's first configured prefix, for
// messages that answer no command (notices, DMs, scheduled work).
func (e *Env) Cmd(s string) string { return e.Config.CommandPrefixes[0] + s }

// IsModerator says whether user may act for the room (power level at least
// the room's state_default).
func (e *Env) IsModerator(ctx context.Context, room id.RoomID, user id.UserID) (bool, error) {
	level, moderator, err := e.Rooms.PowerLevel(ctx, room, user)
	if err != nil {
		return false, fmt.Errorf("read power levels: %w", err)
	}
	return level >= moderator, nil
}

// ResolveMember turns a typed mention into a member of room: a full user ID,
// or "@localpart" when exactly one member has that localpart.
func (e *Env) ResolveMember(ctx context.Context, room id.RoomID, word string) (id.UserID, error) {
	word = strings.TrimRight(word, ",;.:")
	if len(word) < 2 || len(word) > 255 || strings.IndexFunc(word, unicode.IsSpace) >= 0 {
		return "", Refusef("%s isn't a member; write their Matrix ID, e.g. `@ana:example.org`.", word)
	}
	members, err := e.Rooms.Members(ctx, room)
	if err != nil {
		return "", err
	}
	if strings.Contains(word, ":") {
		user := id.UserID(word)
		if _, _, err := user.Parse(); err != nil {
			return "", Refusef("%s isn't a Matrix ID; write it like `@ana:example.org`.", word)
		}
		if user == e.Bot || !slices.Contains(members, user) {
			return "", Refusef("%s isn't a member of this room.", word)
		}
		return user, nil
	}
	var found []id.UserID
	for _, m := range members {
		if local, _, err := m.Parse(); err == nil && strings.EqualFold(local, word[1:]) && m != e.Bot {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return "", Refusef("I can't tell who %s is here; write their full Matrix ID, e.g. `%s:example.org`.", word, word)
	}
	return found[0], nil
}

// EachInTx runs fn for each item in a transaction of its own, stopping at
// the first error: scheduled work, where one item's failure must not undo
// the others already done.
func EachInTx[T any](ctx context.Context, env *Env, items []T, fn func(ctx context.Context, fx *Effects, item T) error) error {
	for _, item := range items {
		if err := env.InTx(ctx, func(ctx context.Context, fx *Effects) error { return fn(ctx, fx, item) }); err != nil {
			return err
		}
	}
	return nil
}

// InTx runs fn with fresh Effects in one transaction and flushes them: the
// shape of every scheduled item.
func (e *Env) InTx(ctx context.Context, fn func(ctx context.Context, fx *Effects) error) error {
	err := e.Store.Tx(ctx, func(ctx context.Context) error {
		var fx Effects
		if err := fn(ctx, &fx); err != nil {
			return err
		}
		return fx.flush(ctx, e)
	})
	if err == nil && e.Committed != nil {
		e.Committed()
	}
	return err
}

// DMLimitWindow is the window of the per-member limits on what makes the
// bot send DMs to others (secret ballots, swap requests).
const DMLimitWindow = 24 * time.Hour

// IsMember says whether user is a joined member of room now.
func (e *Env) IsMember(ctx context.Context, room id.RoomID, user id.UserID) (bool, error) {
	members, err := e.Rooms.Members(ctx, room)
	if err != nil {
		return false, fmt.Errorf("read members: %w", err)
	}
	return slices.Contains(members, user), nil
}

// MemberLocation is user's own zone (!tz) if set, else room's.
func (e *Env) MemberLocation(ctx context.Context, user id.UserID, room id.RoomID) *time.Location {
	if tz, err := e.Store.Users().Timezone(ctx, user); err == nil && tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			return loc
		}
	}
	return e.Config.Location(room)
}

// Lang is the language of what the bot says in room: for a member's direct
// chat, theirs (UserLang); else the one a moderator set with !lang, or the
// configured one.
func (e *Env) Lang(ctx context.Context, room id.RoomID) (string, error) {
	if user, ok, err := e.Store.DMs().User(ctx, room); err != nil {
		return "", err
	} else if ok {
		return e.UserLang(ctx, user, "")
	}
	lang, err := e.Store.Rooms().Language(ctx, room)
	if err != nil || lang != "" {
		return lang, err
	}
	return e.Config.RoomLanguage(room), nil
}

// UserLang is the language of what the bot says to user alone: the one
// they chose with !lang in their direct chat; else that of the room from
// which the message comes, remembered for what follows in the direct chat
// (replies to their `!vote` there); else the configured one.
func (e *Env) UserLang(ctx context.Context, user id.UserID, from id.RoomID) (string, error) {
	users := e.Store.Users()
	if lang, err := users.Language(ctx, user); err != nil || lang != "" {
		return lang, err
	}
	if from != "" {
		if _, isDM, err := e.Store.DMs().User(ctx, from); err != nil {
			return "", err
		} else if !isDM {
			lang, err := e.Lang(ctx, from)
			if err != nil {
				return "", err
			}
			if last, err := users.RoomLanguage(ctx, user); err != nil || last == lang {
				return lang, err
			}
			return lang, users.SetRoomLanguage(ctx, user, lang)
		}
	}
	if lang, err := users.RoomLanguage(ctx, user); err != nil || lang != "" {
		return lang, err
	}
	return e.Config.RoomLanguage(""), nil
}

// langOf is the language of an outbox entry's reader.
func (e *Env) langOf(ctx context.Context, o store.Outgoing, from id.RoomID) (string, error) {
	if o.DMUser != "" {
		return e.UserLang(ctx, o.DMUser, from)
	}
	return e.Lang(ctx, o.Room)
}
