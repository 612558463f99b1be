package bot

import (
	"context"
	"quorum/commands"
	"slices"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// maxCatchUpPages bounds how far back the bot pages after a gap (100 events
// a page): a week-long outage of a busy room is still covered, a runaway
// pagination is not possible.
const maxCatchUpPages = 200

// catchUp fills the gaps of a sync response. When a room's timeline is
// "limited", the events between the bot's last sync and this response are
// not in it (the bot was down while many commands and votes were sent). The
// bot pages back to where it was and handles the missing events, oldest
// first, before the ones in the response. It runs as a sync listener after
// the crypto machine's, so the room keys of this response are already known.
func (b *Bot) catchUp(ctx context.Context, res *mautrix.RespSync, _ string) bool {
	for room, data := range res.Rooms.Join {
		if !data.Timeline.Limited || data.Timeline.PrevBatch == "" {
			continue
		}
		since, err := b.st.Rooms().SyncedUntil(ctx, room)
		if err != nil {
			b.logRoom(ctx, b.log.Error().Err(err), room).Msg("Could not read sync position; skipping catch-up")
			continue
		}
		if since.IsZero() {
			user, direct, err := b.st.DMs().User(ctx, room)
			if err != nil || !direct || user == "" {
				continue // a room new to the bot: nothing to catch up on
			}
			// A direct room keeps no position (store.Rooms.SetSyncedUntil):
			// page back as far as handled events are remembered.
			joined, _, _ := b.st.Rooms().JoinedAt(ctx, room)
			since = b.clock.Now().Add(-commands.HandledKept + 24*time.Hour)
			if joined.After(since) {
				since = joined
			}
		}
		missed := b.fetchGap(ctx, room, data.Timeline.PrevBatch, since)
		if len(missed) > 0 {
			b.logRoom(ctx, b.log.Info(), room).Int("events", len(missed)).Msg("Catching up on events missed while away")
		}
		for _, evt := range missed {
			b.syncer.Dispatch(ctx, evt)
		}
	}
	return true
}

// fetchGap pages back from token until events older than since, and returns
// the newer ones oldest first, ready to dispatch like timeline events.
func (b *Bot) fetchGap(ctx context.Context, room id.RoomID, token string, since time.Time) []*event.Event {
	var missed []*event.Event
	for page := 0; page < maxCatchUpPages && token != ""; page++ {
		resp, err := b.cli.Messages(ctx, room, token, "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			b.logRoom(ctx, b.log.Error().Err(err), room).Msg("Catch-up pagination failed; some missed events may not be handled")
			break
		}
		done := len(resp.Chunk) == 0
		for _, evt := range resp.Chunk {
			if !eventTime(evt).After(since) {
				done = true
				break
			}
			missed = append(missed, evt)
		}
		if done {
			break
		}
		token = resp.End
	}
	slices.Reverse(missed)
	for _, evt := range missed {
		ParseFetched(room, evt)
		evt.Mautrix.EventSource = event.SourceJoin | event.SourceTimeline
	}
	return missed
}

// ParseFetched fills in what an event fetched with /messages lacks compared
// with one from the sync (its room, its type class) and parses its content.
func ParseFetched(room id.RoomID, evt *event.Event) {
	evt.RoomID = room
	if evt.StateKey != nil {
		evt.Type.Class = event.StateEventType
	} else {
		evt.Type.Class = event.MessageEventType
	}
	_ = evt.Content.ParseRaw(evt.Type)
}

// recordSyncPositions remembers, per room, the newest timeline event
// processed, which is where the next catch-up stops.
func (b *Bot) recordSyncPositions(ctx context.Context, res *mautrix.RespSync) {
	for room, data := range res.Rooms.Join {
		events := data.Timeline.Events
		if len(events) == 0 {
			continue
		}
		// While the bot stops, ctx is canceled and this fails as expected,
		// harmlessly: a catch-up from an older position only pages back
		// further, and events already handled are skipped.
		if err := b.st.Rooms().SetSyncedUntil(ctx, room, eventTime(events[len(events)-1])); err != nil && ctx.Err() == nil {
			b.logRoom(ctx, b.log.Error().Err(err), room).Msg("Could not record sync position")
		}
	}
}
