package bot

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// Keys that come after the crypto helper gave up. mautrix waits about 25 s
// for an event's megolm key, then drops the event. Under load a homeserver's
// to-device messages (the keys) can lag its room events by more than that:
// measured with 25 and more federated branch bots in one council, each
// missing the others' keys. So an event given up on for want of its key is
// kept, by session, until the key comes (onSessionReceived), and stays
// noted in the store meanwhile, so that a restart looks at it again
// (latekeys.go).

// maxGivenUp bounds the events kept: a member can send any number of
// events under sessions that never come. Past it the oldest is dropped.
// maxGivenUpPerSender keeps one sender from pushing out everyone else's:
// past it, that sender's oldest goes.
const (
	maxGivenUp          = 1000
	maxGivenUpPerSender = 50
)

// sessionKey names a megolm session: its ID, in its room (a session's key
// is only ever used in the room it was made for).
type sessionKey struct {
	room    id.RoomID
	session id.SessionID
}

func sessionOf(evt *event.Event) sessionKey {
	return sessionKey{evt.RoomID, evt.Content.AsEncrypted().SessionID}
}

// givenUp holds the events given up on, by megolm session, in the order
// they were kept.
type givenUp struct {
	mu      sync.Mutex
	session map[sessionKey][]*event.Event
	order   []*event.Event
}

// keep adds evt, unless it is kept already, and returns the event dropped
// to make room, if any.
func (g *givenUp) keep(evt *event.Event) (dropped *event.Event) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.session == nil {
		g.session = map[sessionKey][]*event.Event{}
	}
	key := sessionOf(evt)
	if slices.ContainsFunc(g.session[key], func(e *event.Event) bool { return e.ID == evt.ID }) {
		return nil // given up on again (fetched again on start, say)
	}
	oldest, same := -1, 0 // the sender's oldest kept, and how many
	for i, e := range g.order {
		if e.Sender == evt.Sender {
			if oldest < 0 {
				oldest = i
			}
			same++
		}
	}
	switch {
	case same >= maxGivenUpPerSender:
		dropped = g.order[oldest]
	case len(g.order) >= maxGivenUp:
		dropped = g.order[0]
	}
	if dropped != nil {
		g.order = slices.DeleteFunc(g.order, func(e *event.Event) bool { return e == dropped })
		g.remove(dropped)
	}
	g.session[key] = append(g.session[key], evt)
	g.order = append(g.order, evt)
	return dropped
}

// remove takes one event out of its session's list; g.mu is held.
func (g *givenUp) remove(evt *event.Event) {
	key := sessionOf(evt)
	list := slices.DeleteFunc(g.session[key], func(e *event.Event) bool { return e == evt })
	if len(list) == 0 {
		delete(g.session, key)
	} else {
		g.session[key] = list
	}
}

// take removes and returns the events kept for session in room, oldest
// first.
func (g *givenUp) take(room id.RoomID, session id.SessionID) []*event.Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := sessionKey{room, session}
	list := g.session[key]
	delete(g.session, key)
	if len(list) > 0 {
		g.order = slices.DeleteFunc(g.order, func(e *event.Event) bool { return slices.Contains(list, e) })
	}
	slices.SortStableFunc(list, func(a, b *event.Event) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	return list
}

// keepGivenUp keeps an event the crypto helper gave up on for want of its
// key, and reports whether it did. A key withheld counts as wanting: the
// refusal may answer the helper's key request while the key itself is still
// on its way (a sender refuses requests for a session it did not share
// with the bot), and a client that withholds keys from unverified devices
// sends them once it verified the bot. Other errors (a broken message) no
// later key mends.
func (b *Bot) keepGivenUp(ctx context.Context, evt *event.Event, err error) bool {
	if !errors.Is(err, crypto.ErrNoSessionFound) && !errors.Is(err, crypto.ErrGroupSessionWithheld) {
		return false
	}
	if dropped := b.late.keep(evt); dropped != nil {
		b.logEvent(ctx, b.log.Warn(), dropped.RoomID, dropped.ID).Msg("Too many messages wait for a late key; giving up on the oldest")
		b.keyDone(ctx, dropped.ID)
	}
	// The key may have come between the helper's last look and now, and
	// then no call of onSessionReceived is left to come.
	session := evt.Content.AsEncrypted().SessionID
	if sess, _ := b.crypto.Machine().CryptoStore.GetGroupSession(ctx, evt.RoomID, session); sess != nil {
		b.onSessionReceived(ctx, evt.RoomID, session, 0)
	}
	return true
}

// onSessionReceived runs when a megolm key is stored (OlmMachine's
// SessionReceived): the events given up on for it are decrypted and
// handled now, in the order they were sent.
func (b *Bot) onSessionReceived(ctx context.Context, room id.RoomID, session id.SessionID, _ uint32) {
	list := b.late.take(room, session)
	if len(list) == 0 {
		return
	}
	// Not in the caller: mautrix stores keys while it handles a sync's
	// to-device messages, and decrypting dispatches to the handlers. The
	// sync's context ends with a stop, which leaves the events noted.
	ctx = context.WithValue(ctx, mautrix.SyncTokenContextKey, "late")
	go func() {
		for _, evt := range list {
			b.logEvent(ctx, b.log.Info(), evt.RoomID, evt.ID).Msg("A late key came; decrypting the message again")
			b.crypto.HandleEncrypted(ctx, evt)
		}
	}()
}
