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

	"quorum/commands"
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
func (b *Bot) describeLoop(ctx context.Context) {
	select {
	case <-ctx.Done():
		return
	case <-b.ready:
	}
	list := b.asm.Descriptions()
	hash := commands.DescriptionsHash(list)
	lacking := map[string]bool{} // rooms already logged as lacking the power, this run
	for {
		rooms, err := b.st.Rooms().Undescribed(ctx, hash)
		if err != nil && ctx.Err() == nil {
			b.log.Error().Err(err).Msg("Listing rooms to describe commands in failed")
		}
		for _, room := range rooms {
			if ctx.Err() != nil {
				return
			}
			pl, err := b.cli.StateStore.GetPowerLevels(ctx, room)
			if err != nil || pl == nil {
				continue // not synced yet
			}
			if pl.GetUserLevel(b.cli.UserID) < pl.GetEventLevel(event.StateMSC4391BotCommand) {
				if !lacking[string(room)] {
					lacking[string(room)] = true
					b.logRoom(ctx, b.log.Info(), room).Msg("Lacking the power to describe commands in room; clients there will not offer completion")
				}
				continue
			}
			if err := b.describe(ctx, room, list, hash); err != nil && ctx.Err() == nil {
				b.logRoom(ctx, b.log.Warn().Err(err), room).Msg("Describing commands failed; will retry")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(describeInterval):
		}
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
