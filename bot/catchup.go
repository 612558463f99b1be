package bot

import (
	"context"
	"slices"
	"sync/atomic"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
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
//
// Where it was is a position in the room, never a time: the event recorded
// by recordSyncPositions, or any event it handled, or its own join. Event
// timestamps are set by whoever sends (a federated server, an appservice,
// an admin) and say nothing about order: one dated in 2100 or one
// back-dated inside the gap changes nothing here.
func (b *Bot) catchUp(ctx context.Context, res *mautrix.RespSync, _ string) bool {
	for room, data := range res.Rooms.Join {
		if !data.Timeline.Limited || data.Timeline.PrevBatch == "" {
			continue
		}
		if _, known, err := b.st.Rooms().JoinedAt(ctx, room); err != nil || !known {
			continue // a room new to the bot: nothing to catch up on
		}
		gap, err := b.gapIn(ctx, room, data.Timeline.Events)
		if err != nil {
			b.logRoom(ctx, b.log.Error().Err(err), room).Msg("Could not read sync position; skipping catch-up")
			continue
		}
		if gap == nil {
			continue
		}
		missed := b.fetchGap(ctx, room, data.Timeline.PrevBatch, gap)
		if len(missed) > 0 {
			b.logRoom(ctx, b.log.Info(), room).Int("events", len(missed)).Msg("Catching up on events missed while away")
		}
		for _, evt := range missed {
			b.syncer.Dispatch(ctx, evt)
		}
	}
	return true
}

// gap knows where the events a room missed begin: at the first event after
// one the bot has processed.
type gap struct {
	direct bool
	last   id.EventID // the room's recorded position ("" for a direct room)
}

// gapIn returns how to find the start of room's gap before timeline, or nil
// if there is none to fill (the recorded position or the bot's own join is
// in the timeline already).
func (b *Bot) gapIn(ctx context.Context, room id.RoomID, timeline []*event.Event) (*gap, error) {
	_, direct, err := b.st.DMs().User(ctx, room)
	if err != nil {
		return nil, err
	}
	g := &gap{direct: direct}
	if !direct {
		if g.last, err = b.st.Rooms().Position(ctx, room); err != nil {
			return nil, err
		}
	}
	for _, evt := range timeline {
		if (g.last != "" && evt.ID == g.last) || b.ownJoin(evt) {
			return nil, nil
		}
	}
	return g, nil
}

// processed says whether the bot has been through evt, and so through
// everything before it in room (a sync and a catch-up hand events over in
// the room's order): its recorded position, an event it handled, or where
// its history in the room begins (its own join, the room's creation).
func (b *Bot) processed(ctx context.Context, g *gap, evt *event.Event) (exact bool, err error) {
	if g.last != "" && evt.ID == g.last {
		return true, nil
	}
	if g.direct {
		if passed, err := b.st.Rooms().PassedPrivate(ctx, evt.ID); err != nil || passed {
			return passed, err
		}
	}
	if seen, err := b.st.Handled().Seen(ctx, evt.ID); err != nil || seen {
		return seen, err
	}
	return false, nil
}

// begins says whether nothing before evt concerns the bot.
func (b *Bot) begins(evt *event.Event) bool {
	return evt.Type.Type == event.StateCreate.Type || b.ownJoin(evt)
}

// ownJoin says whether evt is the bot joining (not a profile change). It
// reads the raw content: timeline events are not parsed yet when the sync
// listeners run.
func (b *Bot) ownJoin(evt *event.Event) bool {
	if evt.Type.Type != event.StateMember.Type || evt.GetStateKey() != b.cli.UserID.String() {
		return false
	}
	if m, _ := evt.Content.Raw["membership"].(string); m != string(event.MembershipJoin) {
		return false
	}
	if pc := evt.Unsigned.PrevContent; pc != nil {
		m, _ := pc.Raw["membership"].(string)
		return m != string(event.MembershipJoin)
	}
	return true
}

// fetchGap pages back from token until an event the bot has processed, and
// returns the newer ones oldest first, ready to dispatch like timeline
// events.
func (b *Bot) fetchGap(ctx context.Context, room id.RoomID, token string, g *gap) []*event.Event {
	var missed []*event.Event
	exact := false
	for page := 0; ; page++ {
		if page == maxCatchUpPages {
			b.logRoom(ctx, b.log.Warn(), room).Int("events", len(missed)).
				Msg("Catch-up found no event it had processed; older missed events, if any, are not handled")
			break
		}
		resp, err := b.cli.Messages(ctx, room, token, "", mautrix.DirectionBackward, nil, 100)
		if err != nil {
			if ctx.Err() == nil {
				b.logRoom(ctx, b.log.Error().Err(err), room).Msg("Catch-up pagination failed; some missed events may not be handled")
			}
			break
		}
		stop := false
		for _, evt := range resp.Chunk {
			ParseFetched(room, evt)
			if exact, err = b.processed(ctx, g, evt); err != nil {
				b.logRoom(ctx, b.log.Error().Err(err), room).Msg("Could not read what was handled; catch-up stops here")
			}
			if stop = err != nil || exact || b.begins(evt); stop {
				break
			}
			missed = append(missed, evt)
		}
		if stop || len(resp.Chunk) == 0 || resp.End == "" || resp.End == token {
			break // found where it was, or the beginning of what it may see
		}
		token = resp.End
	}
	if !exact {
		// Without a mark of its own the bot may have reached events it
		// handled so long ago that it has forgotten them (a direct room
		// silent for longer than handled events are kept): those are not
		// acted on again. This is the one place a timestamp decides, and
		// only which old events to skip: it never ends the search early.
		cutoff := b.clock.Now().Add(-commands.HandledKept + 24*time.Hour).UnixMilli()
		missed = slices.DeleteFunc(missed, func(evt *event.Event) bool { return evt.Timestamp < cutoff })
	}
	slices.Reverse(missed)
	for _, evt := range missed {
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
// processed, which is where the next catch-up stops. A direct room's is kept
// as a keyed hash among its handled events (store.Rooms.MarkPassedPrivate).
// It runs only once every event of the response was handled or given up on
// for good: a position past an event to be retried would skip it.
func (b *Bot) recordSyncPositions(ctx context.Context, res *mautrix.RespSync) {
	for room, data := range res.Rooms.Join {
		events := data.Timeline.Events
		if len(events) == 0 {
			continue
		}
		last := events[len(events)-1].ID
		_, direct, err := b.st.DMs().User(ctx, room)
		if err == nil {
			if direct {
				err = b.st.Rooms().MarkPassedPrivate(ctx, room, last, b.clock.Now())
			} else {
				err = b.st.Rooms().SetPosition(ctx, room, last)
			}
		}
		// While the bot stops, ctx is canceled and this fails as expected,
		// harmlessly: a catch-up from an older position only pages back
		// further, and events already handled are skipped.
		if err != nil && ctx.Err() == nil {
			b.logRoom(ctx, b.log.Error().Err(err), room).Msg("Could not record sync position")
		}
	}
}

// Event times. An event's origin_server_ts is whatever its sender's server
// wrote (a federated server, an appservice, an admin can write any): it
// orders nothing and decides a deadline only within what the bot's clock
// allows. eventTime keeps it within [now - commands.HandledKept, now]: an
// event cannot have been sent after the bot sees it, nor be older than
// what the bot remembers handling.
var (
	warnedFuture atomic.Bool
	warnedPast   atomic.Bool
)

// eventTime is the event's origin_server_ts, clamped to the bot's clock.
// The first clamp each way is logged, with no room, event or content.
func (b *Bot) eventTime(evt *event.Event) time.Time {
	at, now := time.UnixMilli(evt.Timestamp), b.clock.Now()
	switch oldest := now.Add(-commands.HandledKept); {
	case at.After(now):
		if at.Sub(now) > time.Minute && warnedFuture.CompareAndSwap(false, true) {
			b.log.Warn().Dur("ahead", at.Sub(now).Round(time.Second)).Msg("An event is dated in the future; using this server's clock for it (logged once)")
		}
		return now
	case at.Before(oldest):
		if warnedPast.CompareAndSwap(false, true) {
			b.log.Warn().Dur("behind", now.Sub(at).Round(time.Second)).Msg("An event is dated before anything the bot remembers; using the oldest time it accepts (logged once)")
		}
		return oldest
	}
	return at
}
