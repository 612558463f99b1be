package bot

import (
	"context"
	"errors"
	"net/http"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/event/cmdschema"
	"maunium.net/go/mautrix/id"

	"quorum/locale"
)

// Command descriptions (MSC4391): the bot publishes its commands as state
// in each room it is in (not direct rooms), from the registry, so that
// clients that support them offer completion and help. State events are
// never encrypted: they tell the homeserver which commands Quorum has,
// which its published source tells anyone. Publishing needs the power to
// send that state (usually a moderator's); without it the bot leaves the
// room as it is and tries again when it has it.

// describeInterval is how often the bot looks for rooms to describe its
// commands in (a room it joined, a room where it was given the power).
const describeInterval = 20 * time.Second

// describeLoop publishes the command descriptions where they are missing
// or out of date, once the bot is ready and then every describeInterval.
// Each room gets them in its language: a room whose language changed has
// another language's hash, so it is described again.
func (b *Bot) describeLoop(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-b.ready:
	}
	versions := map[string]string{}
	for _, lang := range locale.Codes() {
		versions[lang] = b.asm.DescriptionsVersion(lang)
	}
	lacking := map[string]bool{} // rooms already logged as lacking the power, this run
	for {
		for _, lang := range locale.Codes() {
			rooms, err := b.st.Rooms().Undescribed(ctx, versions[lang])
			if err != nil && ctx.Err() == nil {
				b.log.Error().Err(err).Msg("Listing rooms to describe commands in failed")
			}
			var list []*cmdschema.EventContent // built for the rooms that need it, this round
			for _, room := range rooms {
				if ctx.Err() != nil {
					return
				}
				if b.lang(ctx, room) == lang { // other rooms are described in their language's turn
					if list == nil {
						list = b.asm.Descriptions(lang)
					}
					b.describeRoom(ctx, room, list, versions[lang], lacking)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(describeInterval):
		}
	}
}

// describeRoom describes the commands in room if it is an assembly's room
// and the bot has the power to.
func (b *Bot) describeRoom(ctx context.Context, room id.RoomID, list []*cmdschema.EventContent, hash string, lacking map[string]bool) {
	// A room of two may be a direct room not recorded as one yet (being
	// made, or just left for a new one): commands are typed in the
	// assembly's rooms, and a direct room's ID is never logged.
	members, err := b.cli.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
	if err != nil || len(members) <= 2 {
		return
	}
	pl, err := b.cli.StateStore.GetPowerLevels(ctx, room)
	if err != nil || pl == nil {
		return // not synced yet
	}
	if pl.GetUserLevel(b.cli.UserID) < pl.GetEventLevel(event.StateMSC4391BotCommand) {
		if !lacking[string(room)] {
			lacking[string(room)] = true
			b.logRoom(ctx, b.log.Info(), room).Msg("Lacking the power to describe commands in room; clients there will not offer completion")
		}
		return
	}
	if err := b.describe(ctx, room, list, hash); err != nil && ctx.Err() == nil {
		b.logRoom(ctx, b.log.Warn().Err(err), room).Msg("Describing commands failed; will retry")
	}
}

// describe publishes every command's description in room.
func (b *Bot) describe(ctx context.Context, room id.RoomID, list []*cmdschema.EventContent, hash string) error {
	for _, d := range list {
		_, err := b.cli.SendStateEvent(ctx, room, event.StateMSC4391BotCommand, d.StateKey(b.cli.UserID), d)
		var httpErr mautrix.HTTPError
		if errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusForbidden) {
			return nil // the power changed meanwhile: tried again next time
		} else if err != nil {
			return err
		}
	}
	b.logRoom(ctx, b.log.Info(), room).Int("commands", len(list)).Msg("Described commands in room")
	return b.st.Rooms().Described(ctx, room, hash)
}
