package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// Retries are bounded for every entry, by what its failure says:
//   - an entry that can never be sent is given up at once: one the
//     homeserver refuses for its size, one whose payload does not open, one
//     that cannot be decoded, an edit whose original was dropped (nothing
//     queued before it is left to send the original);
//   - one the homeserver refuses (4xx other than rate limiting) at once if
//     the bot is not in the room (it was kicked or banned, or left), else
//     after maxAttempts failures (the room is not encrypted, say);
//   - one that fails otherwise (the homeserver unreachable, 5xx, rate
//     limited) after maxAttempts failures once it has waited maxQueueAge:
//     an outage of a day or two loses nothing, and what is sent after it
//     still comes in order.
//
// Giving up is logged without content and counted (GivenUp).
const (
	maxAttempts = 5
	maxQueueAge = 72 * time.Hour
	// echoWait is how long an entry whose send may have reached the
	// homeserver (see inDoubt) waits before it is sent again. The
	// homeserver may still be making its event: a second request with the
	// same transaction ID before the first is done becomes a second event
	// (Dendrite records the ID once done; at 1,000 members a receipt came
	// twice), while the event's echo, once the first is done, completes
	// the entry (onOwnEcho).
	echoWait = time.Minute
	// drainWait is how long a stop waits for unkept entries still queued
	// (draining).
	drainWait = 5 * time.Second
)

// doubt is an entry whose send may have reached the homeserver although
// the bot heard no success: when it failed, and how many syncs the bot had
// processed then. It is sent again only after echoWait and two more syncs,
// the second begun after the failure, which shows the event's echo if the
// homeserver has it. Waiting for the time alone is not enough: Dendrite
// forgets transaction IDs when it restarts, and a resend after a restart
// longer than echoWait, before the sync caught up, made a second event.
// Nor is the echo: after a restart, the bot's sync did not show it (why is
// not known), and the reply came twice. So before sending again, the bot
// looks for the event in the room itself (madeEarlier).
type doubt struct {
	at    time.Time
	syncs int64
	sent  *sentCipher
}

// inDoubt says whether a send that failed with err may have reached the
// homeserver: it timed out, the homeserver failed while answering (5xx: a
// stopping Dendrite has made the event, then answers 500), or the
// connection broke after it was made. A refusal (4xx) or a connection never
// made is not in doubt.
func inDoubt(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var httpErr mautrix.HTTPError
	if !errors.As(err, &httpErr) {
		return false
	}
	if httpErr.Response != nil {
		return httpErr.Response.StatusCode >= http.StatusInternalServerError
	}
	var opErr *net.OpError
	return httpErr.WrappedError != nil && !(errors.As(err, &opErr) && opErr.Op == "dial")
}

// errNotEncrypted refuses to send in the clear.
var errNotEncrypted = errors.New("room is not encrypted; refusing to send in the clear")

// errCannotSucceed marks a failure no retry can mend.
var errCannotSucceed = errors.New("cannot be sent")

// errOriginalMissing is an edit whose original has no event (yet).
var errOriginalMissing = errors.New("message to edit not sent")

// draining returns the sender's context: it ends when ctx does, unless
// unkept entries (receipts: lost if the bot stops before sending them) are
// queued then. Those are sent for up to drainWait more, with whatever is
// queued before them.
func (b *Bot) draining(ctx context.Context) context.Context {
	send, cancel := context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer cancel()
		<-ctx.Done()
		select {
		case <-b.ready:
		default:
			return // the sender has not begun
		}
		b.wake() // the sender waits for ctx no more
		deadline := time.After(drainWait)
		for {
			if unkept, err := b.st.Outbox().Unkept(send); err != nil || !unkept {
				return
			}
			select {
			case <-deadline:
				b.log.Info().Msg("Stopping with receipts unsent; their voters will be told they were lost")
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return send
}

// sendLoop delivers the outbox, oldest first. An entry that fails holds back
// the later entries of its destination (order matters: a result after its
// motion) but not those of other destinations.
func (b *Bot) sendLoop(ctx context.Context) {
	// An entry left from before a stop may have reached the homeserver
	// without the bot hearing back (a crash, or a send cut off at shutdown;
	// the homeserver then has no record of the transaction ID either). Its
	// echo in the first sync completes it (onOwnEcho): wait for that sync
	// before sending anything, or it would be posted twice.
	select {
	case <-ctx.Done():
		return
	case <-b.ready:
	}
	backoff := time.Second
	for {
		failed := b.sendPending(ctx)
		wait := time.Minute
		if failed {
			wait = backoff
			backoff = min(backoff*2, time.Minute)
		} else {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-b.wakeSender:
		case <-time.After(wait):
		}
	}
}

// sendPending sends what is queued, each destination's entries in order
// until one fails, and reports whether anything failed. Destinations are
// served side by side (a few at a time), so that one whose requests are
// slow (a direct room for a member whose server does not answer) does not
// keep the others waiting either, and each gets its first entry sent before
// any is emptied (sendTo). It goes round until a round sends nothing more
// (what was sent may have queued more, or moved entries to another
// destination).
func (b *Bot) sendPending(ctx context.Context) bool {
	var mu sync.Mutex
	blocked := map[store.Destination]bool{}
	for ctx.Err() == nil {
		dests, err := b.st.Outbox().Destinations(ctx)
		if err != nil {
			if ctx.Err() == nil { // not the stop cutting a read short
				b.log.Error().Err(err).Msg("Reading the outbox failed")
			}
			return true
		}
		progress := false
		var wg sync.WaitGroup
		slots := make(chan struct{}, sendWorkers)
		// Destinations of this round not yet given a worker: while some
		// wait, a worker sends one entry and moves on.
		var waiting atomic.Int32
		waiting.Store(int32(len(dests)))
		for _, d := range dests {
			mu.Lock()
			skip := blocked[d]
			mu.Unlock()
			if skip {
				waiting.Add(-1)
				continue
			}
			slots <- struct{}{}
			waiting.Add(-1)
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				sent, ok := b.sendTo(ctx, d, func() bool { return waiting.Load() > 0 })
				mu.Lock()
				defer mu.Unlock()
				progress = progress || sent
				if !ok {
					blocked[d] = true
				}
			}()
		}
		wg.Wait()
		if !progress || ctx.Err() != nil {
			break
		}
	}
	return len(blocked) > 0 || ctx.Err() != nil
}

// sendWorkers is how many destinations are served at once.
const sendWorkers = 4

// maxReplacements bounds how often one entry's direct room is replaced in a
// row before the entry waits for the next round (someone who gets into every
// new room at once).
const maxReplacements = 3

// sendTo sends d's entries in order, but only its oldest while othersWait:
// a room with many queued (a result and its notice's edit, a burst of
// replies) does not keep a worker while the first messages of other rooms,
// due at the same moment, wait; once every destination has a worker, each
// empties its own. It reports whether it did anything (sent, gave up on or
// moved an entry) and whether d may be served again in this pass (false: an
// entry failed, or its direct room kept being replaced).
func (b *Bot) sendTo(ctx context.Context, d store.Destination, othersWait func() bool) (progress, ok bool) {
	replaced := 0
	for ctx.Err() == nil {
		o, found, hold, err := b.next(ctx, d)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Error().Err(err).Msg("Reading the outbox failed")
			}
			return progress, false
		}
		if !found {
			return progress, true
		}
		if hold {
			return progress, false
		}
		moved, sent, err := b.sendOne(ctx, o)
		if err != nil {
			if ctx.Err() == nil {
				b.log.Error().Err(err).Msg("Could not update the outbox")
			}
			return progress, false
		}
		if moved {
			// Moved to another destination: d's next entry is still due.
			if replaced++; replaced > maxReplacements {
				return true, false
			}
		} else if !sent {
			return progress, false
		}
		progress = true
		if !moved && othersWait() {
			return true, true
		}
	}
	return progress, false
}

// next reads d's next entry, and says whether it is held back: its send
// is in doubt, and no echo has completed it yet.
func (b *Bot) next(ctx context.Context, d store.Destination) (o *store.Outgoing, found, hold bool, err error) {
	for {
		if o, found, err = b.st.Outbox().Next(ctx, d); err != nil || !found {
			return o, found, false, err
		}
		if v, ok := b.doubts.Load(o.ID); ok {
			v := v.(doubt)
			if b.clock.Now().Sub(v.at) < echoWait || b.syncs.Load() < v.syncs+2 {
				return o, true, true, nil
			}
			if v.sent.ciphertext != "" {
				// Quiet: mautrix would log a failed request's URL, which
				// names the room, a direct room perhaps.
				made, err := b.madeEarlier(b.quiet(ctx), o.ID, *v.sent)
				if err != nil && !permanent(err) {
					// Not known (the homeserver is away): wait as long again.
					b.log.Warn().Str("error", safeError(err)).Int64("outbox_id", o.ID).Msg("Could not look for a send in doubt in its room")
					b.doubts.Store(o.ID, doubt{at: b.clock.Now(), syncs: b.syncs.Load(), sent: v.sent})
					return o, true, true, nil
				}
				if made && err == nil {
					continue
				}
			}
			b.doubts.Delete(o.ID)
		}
		// The echo of an entry in doubt may have come since o was read:
		// it completes the entry, then drops the doubt (onOwnEcho). Read
		// again after looking at the doubt, o is still to be sent, unless
		// it was moved meanwhile (readdressed to a direct room).
		again, found, err := b.st.Outbox().Get(ctx, o.ID)
		if err != nil || (found && again.Destination() == d) {
			return again, found, false, err
		}
	}
}

// sendOne delivers o and records the outcome. It reports whether o was
// moved to another destination (its direct room was replaced) and whether
// it is done with (sent or given up). What touches a member's direct room
// is done under that member's lock (lockDM), and o is read again under it:
// the sync may have moved it meanwhile.
func (b *Bot) sendOne(ctx context.Context, o *store.Outgoing) (moved, done bool, err error) {
	member := o.DMUser
	if member == "" {
		if member, _, err = b.st.DMs().User(ctx, o.Room); err != nil {
			return false, false, err
		}
	}
	if member != "" {
		ctx = b.quiet(ctx)
		defer b.lockDM(member)()
		again, found, err := b.st.Outbox().Get(ctx, o.ID)
		if err != nil {
			return false, false, err
		}
		if !found || again.Destination() != o.Destination() {
			return true, false, nil
		}
		o = again
	}
	try := &attempt{txnID: b.txnID(o)}
	err = b.deliver(withAttempt(ctx, try), o)
	switch {
	case err == nil:
		if o.Lost {
			b.logDestination(ctx, b.log.Info(), o).Msg("Sent, in place of a message sealed by the bot's last run (a receipt), the word that it was lost")
		}
		// The homeserver has the event: record that even if the bot is
		// stopping, or it would be sent again.
		return false, true, b.st.Outbox().Done(context.WithoutCancel(ctx), o.ID)
	case errors.Is(err, errDMReplaced):
		return true, false, nil
	case ctx.Err() != nil:
		return false, false, nil
	case try.sent != nil && inDoubt(err):
		// Only the event's own request can have made it: one that failed
		// before (a key query, an upload) is tried again at once, and so
		// are invites, joins, kicks, redactions and power levels, which
		// come out the same when done twice.
		b.doubts.Store(o.ID, doubt{at: b.clock.Now(), syncs: b.syncs.Load(), sent: try.sent})
	}
	return false, b.recordFailure(ctx, o, err), nil
}

// lockDM takes the lock of user's direct room and returns its unlock.
func (b *Bot) lockDM(user id.UserID) func() {
	mu, _ := b.dmLocks.LoadOrStore(user, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

// recordFailure notes a failed attempt, or gives the entry up (see
// maxAttempts); it reports whether the entry was given up.
func (b *Bot) recordFailure(ctx context.Context, o *store.Outgoing, err error) bool {
	if errors.Is(err, errOriginalMissing) {
		// The original was queued before the edit, for the same room: if
		// nothing older is left there, it was given up and will never have
		// an event.
		if older, qerr := b.st.Outbox().QueuedBefore(ctx, o.ID, b.sameRoom(ctx, o)...); qerr == nil && !older {
			err = fmt.Errorf("%w: %w", errCannotSucceed, err)
		}
	}
	attempts := o.Attempts + 1
	var why string // logged: not for members
	switch {
	case tooLarge(err) || errors.Is(err, errCannotSucceed) || errors.Is(err, store.ErrUnreadable):
		why = "it can never be sent" // not for members
	case permanent(err) && o.DMUser == "" && !b.inRoom(ctx, o.Room):
		why = "the bot is not in the room" // not for members
	case permanent(err) && attempts >= maxAttempts:
		why = "the homeserver keeps refusing it" // not for members
	case !permanent(err) && attempts >= maxAttempts && b.clock.Now().Sub(o.Queued) > maxQueueAge:
		why = "it has failed for too long" // not for members
	}
	reason := b.failureText(ctx, o, err)
	if why != "" {
		b.giveUp(ctx, o, why+": "+reason)
		return true
	}
	b.logDestination(ctx, b.log.Warn(), o).Str("error", reason).Int("attempt", attempts).Msg("Sending failed; will retry")
	if err := b.st.Outbox().Failed(ctx, o.ID, reason); err != nil && ctx.Err() == nil {
		b.log.Error().Err(err).Msg("Could not record a send failure")
	}
	return false
}

// inRoom says whether the bot is in room, as far as its database and the
// sync know: not after it left or was kicked or banned.
func (b *Bot) inRoom(ctx context.Context, room id.RoomID) bool {
	if _, known, err := b.st.Rooms().JoinedAt(ctx, room); err != nil || known {
		return true
	}
	return b.cli.StateStore.IsInRoom(ctx, room, b.cli.UserID)
}

// sameRoom lists the destinations whose entries go to the room o goes to:
// its own, and for a direct room both its ID and its member.
func (b *Bot) sameRoom(ctx context.Context, o *store.Outgoing) []store.Destination {
	dests := []store.Destination{o.Destination()}
	if o.DMUser != "" {
		if room, ok, err := b.st.DMs().Room(ctx, o.DMUser); err == nil && ok {
			dests = append(dests, store.Destination{Room: room})
		}
	} else if user, ok, err := b.st.DMs().User(ctx, o.Room); err == nil && ok {
		dests = append(dests, store.Destination{DMUser: user})
	}
	return dests
}

// giveUp drops an entry that will not be sent, and counts it.
func (b *Bot) giveUp(ctx context.Context, o *store.Outgoing, why string) {
	b.doubts.Delete(o.ID)
	n := b.givenUp.Add(1)
	b.logDestination(ctx, b.log.Warn(), o).Str("why", why).Int64("given_up", n).Msg("Giving up on a queued message")
	if err := b.st.Outbox().Done(context.WithoutCancel(ctx), o.ID); err != nil {
		b.log.Error().Err(err).Msg("Could not drop a queued message")
	}
}

// GivenUp is how many queued entries the bot gave up on since it started.
func (b *Bot) GivenUp() int64 { return b.givenUp.Load() }

// logDestination adds an entry's ID, kind and room to a log line, leaving
// out the room of a direct message (and never naming whom it is for).
func (b *Bot) logDestination(ctx context.Context, e *zerolog.Event, o *store.Outgoing) *zerolog.Event {
	e = e.Int64("outbox_id", o.ID).Str("kind", o.Kind)
	if o.DMUser != "" {
		return e.Bool("direct_room", true)
	}
	return b.logRoom(ctx, e, o.Room)
}

// failureText describes err for the log and the outbox row: in full for an
// ordinary room; for a direct room, only its HTTP status and code, since
// mautrix's errors quote the request's URL, which names the room.
func (b *Bot) failureText(ctx context.Context, o *store.Outgoing, err error) string {
	direct := o.DMUser != ""
	if !direct {
		_, direct, _ = b.st.DMs().User(ctx, o.Room)
	}
	if !direct {
		return err.Error()
	}
	return safeError(err)
}

// safeError describes err without quoting it: mautrix's errors may quote a
// request's URL, which names a room (a direct room, say).
func safeError(err error) string {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		code := httpErr.Response.StatusCode
		if httpErr.RespError != nil {
			return fmt.Sprintf("HTTP %d %s", code, httpErr.RespError.ErrCode) // logged, not for members
		}
		return fmt.Sprintf("HTTP %d", code)
	}
	for _, known := range []error{errCannotSucceed, errOriginalMissing, store.ErrUnreadable, errNotEncrypted, errDMReplaced, errDMQuota} {
		if errors.Is(err, known) {
			return known.Error()
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "canceled"
	}
	return "request failed"
}

// permanent says whether the homeserver refused the request for good (4xx
// other than rate limiting), as opposed to being unreachable or overloaded.
func permanent(err error) bool {
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.Response != nil {
		code := httpErr.Response.StatusCode
		return code >= 400 && code < 500 && code != http.StatusTooManyRequests
	}
	return errors.Is(err, errNotEncrypted) || errors.Is(err, store.ErrUnreadable) || errors.Is(err, errCannotSucceed)
}

// tooLarge says whether the homeserver refused an event for its size:
// retrying cannot help, and would hold up the room's later messages.
func tooLarge(err error) bool {
	var httpErr mautrix.HTTPError
	return errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusRequestEntityTooLarge)
}

// txnID makes the transaction ID of an outbox entry: stable across restarts,
// so that a resend after a crash is deduplicated by the homeserver.
func (b *Bot) txnID(o *store.Outgoing) string {
	return fmt.Sprintf("quorum.%s.%d", b.st.ID, o.ID)
}

func (b *Bot) deliver(ctx context.Context, o *store.Outgoing) error {
	if o.Unreadable {
		return store.ErrUnreadable
	}
	room, private := o.Room, o.DMUser
	if private != "" {
		var err error
		if room, err = b.privateDM(ctx, private, o.ID); err != nil {
			return err
		}
	} else if user, direct, err := b.st.DMs().User(ctx, room); err != nil {
		return err
	} else if direct {
		// A reply in a direct room: the same checks as a direct message.
		if err := b.checkRoom(ctx, user, room, o.ID); err != nil {
			return err
		}
		private = user
	}
	if err := b.queryNewMembers(ctx, room); err != nil {
		return err
	}
	switch o.Kind {
	case commands.KindMessage:
		var m msg.Message
		if err := json.Unmarshal(o.Payload, &m); err != nil {
			return fmt.Errorf("%w: decode queued message: %w", errCannotSucceed, err)
		}
		return b.sendMessage(ctx, room, private, m, b.txnID(o))
	case commands.KindFile:
		var f msg.File
		if err := json.Unmarshal(o.Payload, &f); err != nil {
			return fmt.Errorf("%w: decode queued file: %w", errCannotSucceed, err)
		}
		return b.sendFile(ctx, room, private, f, b.txnID(o))
	case commands.KindPower:
		var p msg.PowerLevel
		if err := json.Unmarshal(o.Payload, &p); err != nil {
			return fmt.Errorf("%w: decode queued power level: %w", errCannotSucceed, err)
		}
		return b.setPowerLevel(ctx, room, p)
	case commands.KindEvent:
		var e msg.Event
		if err := json.Unmarshal(o.Payload, &e); err != nil {
			return fmt.Errorf("%w: decode queued event: %w", errCannotSucceed, err)
		}
		return b.sendEvent(ctx, room, e, b.txnID(o))
	case commands.KindRedact:
		var r msg.Redaction
		if err := json.Unmarshal(o.Payload, &r); err != nil {
			return fmt.Errorf("%w: decode queued redaction: %w", errCannotSucceed, err)
		}
		return b.redact(ctx, room, r)
	case commands.KindMembership:
		var m msg.Membership
		if err := json.Unmarshal(o.Payload, &m); err != nil {
			return fmt.Errorf("%w: decode queued membership: %w", errCannotSucceed, err)
		}
		return b.membership(ctx, room, m)
	case kindOpenDM:
		return nil // the room is there, and the member was told why
	}
	return fmt.Errorf("%w: unknown outbox kind %q", errCannotSucceed, o.Kind)
}

// content turns a message into event content. Relations to anchors are
// resolved now, since the anchored message may have been sent only just.
func (b *Bot) content(ctx context.Context, room id.RoomID, m msg.Message) (map[string]any, error) {
	c := &event.MessageEventContent{
		MsgType:       event.MsgNotice,
		Body:          m.Body,
		Format:        event.FormatHTML,
		FormattedBody: m.HTML,
		Mentions:      &event.Mentions{UserIDs: m.Mentions},
	}
	if c.Mentions.UserIDs == nil {
		c.Mentions.UserIDs = []id.UserID{}
	}
	replyTo := m.ReplyTo
	if m.ReplyToAnchor != nil {
		_, evt, ok, err := b.st.Anchors().Event(ctx, store.Anchor(*m.ReplyToAnchor))
		if err != nil {
			return nil, err
		}
		if ok {
			replyTo = evt
		}
	}
	fields := func(into map[string]any) map[string]any {
		for k, v := range m.Fields {
			into[k] = v
		}
		return into
	}
	out, err := toMap(c)
	if err != nil {
		return nil, err
	}
	if m.Edit != nil {
		origRoom, orig, ok, err := b.st.Anchors().Event(ctx, store.Anchor(*m.Edit))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w (%s %d)", errOriginalMissing, m.Edit.Kind, m.Edit.Ref)
		}
		if origRoom != room {
			// The original is in a direct room left since.
			return nil, fmt.Errorf("%w: the message to edit is in another room", errCannotSucceed)
		}
		newContent := fields(out)
		out, err = toMap(c)
		if err != nil {
			return nil, err
		}
		out["m.new_content"] = newContent
		out["body"] = "* " + m.Body
		out["formatted_body"] = "* " + m.HTML
		out["m.relates_to"] = map[string]any{"rel_type": event.RelReplace, "event_id": orig}
		// The edit itself mentions nobody: only the first version pings.
		out["m.mentions"] = map[string]any{}
		return fields(out), nil
	}
	if replyTo != "" {
		out["m.relates_to"] = map[string]any{"m.in_reply_to": map[string]any{"event_id": replyTo}}
	}
	return fields(out), nil
}

func toMap(v any) (map[string]any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(data, &out)
}

// sendMessage sends m to room, encrypted (refusing to send it in the clear
// unless it is the one notice allowed to be). private is the member whose
// direct room it is, if it is one.
func (b *Bot) sendMessage(ctx context.Context, room id.RoomID, private id.UserID, m msg.Message, txnID string) error {
	if err := b.requireEncrypted(ctx, room, m.Plaintext); err != nil {
		return err
	}
	content, err := b.content(ctx, room, m)
	if err != nil {
		return err
	}
	if m.PadTo > 0 {
		if err := pad(content, room, m.PadTo); err != nil {
			return err
		}
	}
	resp, err := b.post(ctx, room, private, event.EventMessage, content, txnID)
	if err != nil {
		return err
	}
	return b.anchor(context.WithoutCancel(ctx), m, room, resp.EventID)
}

// anchor records that evt stands for what m is anchored to.
func (b *Bot) anchor(ctx context.Context, m msg.Message, room id.RoomID, evt id.EventID) error {
	if m.Anchor == nil {
		return nil
	}
	return b.st.Anchors().Put(ctx, evt, room, store.Anchor(*m.Anchor))
}

func (b *Bot) requireEncrypted(ctx context.Context, room id.RoomID, plaintextAllowed bool) error {
	if plaintextAllowed || !b.cfg.RequireEncryption {
		return nil
	}
	enc, err := b.cli.StateStore.IsEncrypted(ctx, room)
	if err != nil {
		return err
	}
	if !enc {
		return errNotEncrypted
	}
	return nil
}

// sendFile uploads f encrypted (the media repository only ever sees
// ciphertext) and posts it.
func (b *Bot) sendFile(ctx context.Context, room id.RoomID, private id.UserID, f msg.File, txnID string) error {
	if err := b.requireEncrypted(ctx, room, false); err != nil {
		return err
	}
	file := attachment.NewEncryptedFile()
	data := append([]byte(nil), f.Data...)
	file.EncryptInPlace(data)
	up, err := b.cli.UploadBytesWithName(ctx, data, "application/octet-stream", "")
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	c := &event.MessageEventContent{
		MsgType:  event.MsgFile,
		Body:     f.Name,
		FileName: f.Name,
		Info:     &event.FileInfo{MimeType: f.MimeType, Size: len(f.Data)},
		File:     &event.EncryptedFileInfo{EncryptedFile: *file, URL: up.ContentURI.CUString()},
		Mentions: &event.Mentions{UserIDs: []id.UserID{}},
	}
	if f.Caption != "" {
		c.Body = f.Caption
	}
	if f.ReplyTo != "" {
		c.RelatesTo = &event.RelatesTo{InReplyTo: &event.InReplyTo{EventID: f.ReplyTo}}
	}
	_, err = b.post(ctx, room, private, event.EventMessage, c, txnID)
	return err
}

// post sends a message event of type typ. It notes the send of an outbox
// entry (noteAttempt), which puts it in doubt should it fail so that it may
// have reached the homeserver. In an encrypted room it encrypts the event itself and notes
// the ciphertext too, for the sender to look for (madeEarlier). In the direct room of private, it
// sends only if the megolm session was given to no one but the bot and
// that member: the session is shared with whoever the state store lists at
// that moment, which the sync may have changed since the members were
// checked.
func (b *Bot) post(ctx context.Context, room id.RoomID, private id.UserID, typ event.Type, content any, txnID string) (*mautrix.RespSendEvent, error) {
	enc, err := b.cli.StateStore.IsEncrypted(ctx, room)
	if err != nil {
		return nil, err
	}
	if !enc || b.crypto == nil {
		noteAttempt(ctx, txnID, sentCipher{room: room, at: time.Now()})
		return b.cli.SendMessageEvent(ctx, room, typ, content, mautrix.ReqSendEvent{TransactionID: txnID})
	}
	encrypted, err := b.crypto.Encrypt(ctx, room, typ, content)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	if private != "" {
		holders, err := b.keyHolders(ctx, encrypted.SessionID)
		if err != nil {
			return nil, err
		}
		for _, u := range holders {
			if u != b.cli.UserID && u != private {
				// Not sent: the message's key went to someone else, whose
				// join the checks before missed. The room is left.
				if err := b.leaveDM(ctx, private, room, store.DMIntruded); err != nil {
					return nil, err
				}
				return nil, errDMReplaced
			}
		}
	}
	noteAttempt(ctx, txnID, sentCipher{room: room, at: time.Now(), session: encrypted.SessionID, ciphertext: string(encrypted.MegolmCiphertext)})
	return b.cli.SendMessageEvent(ctx, room, event.EventEncrypted, encrypted, mautrix.ReqSendEvent{TransactionID: txnID, DontEncrypt: true})
}

// setPowerLevel changes one member's level, reading the current levels from
// the server (not the cache) so as not to undo someone else's change. If the
// bot lacks the power, it says so in the room instead.
func (b *Bot) setPowerLevel(ctx context.Context, room id.RoomID, p msg.PowerLevel) error {
	var pl event.PowerLevelsEventContent
	if err := b.cli.StateEvent(ctx, room, event.StatePowerLevels, "", &pl); err != nil {
		return fmt.Errorf("read power levels: %w", err)
	}
	current := pl.GetUserLevel(p.User)
	if current == p.Level {
		return nil
	}
	if p.From != nil && current != *p.From {
		b.log.Info().Stringer("room_id", room).Stringer("user", p.User).Msg("Power level changed meanwhile; leaving it alone")
		return nil
	}
	if !pl.EnsureUserLevelAs(b.cli.UserID, p.User, p.Level) {
		return b.cannot(ctx, room, p)
	}
	_, err := b.cli.SendStateEvent(ctx, room, event.StatePowerLevels, "", &pl)
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusForbidden) {
		return b.cannot(ctx, room, p)
	}
	return err
}

func (b *Bot) cannot(ctx context.Context, room id.RoomID, p msg.PowerLevel) error {
	b.log.Info().Stringer("room_id", room).Stringer("user", p.User).Int("level", p.Level).Msg("Lacking the power to set a power level")
	return b.say(ctx, room, p.Reason)
}

// say queues a notice in room (nothing if text is empty).
func (b *Bot) say(ctx context.Context, room id.RoomID, text string) error {
	if text == "" {
		return nil
	}
	_, err := b.st.Outbox().Add(ctx, store.Outgoing{Room: room, Kind: commands.KindMessage, Payload: msg.Marshal(msg.F("%s", text))}, b.clock.Now())
	return err
}

// redact removes an event; without the power to, it says r.IfRefused.
func (b *Bot) redact(ctx context.Context, room id.RoomID, r msg.Redaction) error {
	_, err := b.cli.RedactEvent(ctx, room, r.Event, mautrix.ReqRedact{Reason: r.Reason})
	var httpErr mautrix.HTTPError
	if errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusForbidden) {
		b.log.Info().Stringer("room_id", room).Msg("Lacking the power to redact")
		return b.say(ctx, room, r.IfRefused)
	}
	return err
}

// inviteOrKick invites m.User into room or removes them (m.Kick). An
// invite of someone already in the room, or the removal of someone no
// longer in it, is done already; refused (the bot lacks the power, or the
// user is banned), the bot says m.IfRefused in the room.
func (b *Bot) inviteOrKick(ctx context.Context, room id.RoomID, m msg.Membership) error {
	member, err := b.cli.StateStore.TryGetMember(ctx, room, m.User)
	if err != nil {
		return err
	}
	var current event.Membership
	if member != nil {
		current = member.Membership
	}
	in := current == event.MembershipJoin || current == event.MembershipInvite
	if m.Kick {
		if !in {
			return nil
		}
		_, err = b.cli.KickUser(ctx, room, &mautrix.ReqKickUser{UserID: m.User, Reason: m.Reason})
	} else {
		if in {
			return nil
		}
		_, err = b.cli.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: m.User, Reason: m.Reason})
	}
	var httpErr mautrix.HTTPError
	if m.IfRefused != "" && errors.As(err, &httpErr) && httpErr.IsStatus(http.StatusForbidden) {
		// A try before may have done it, unheard (it failed with 5xx), and
		// the invitee joined since: the homeserver refuses to invite a
		// member. Not for want of power, then.
		var now event.MemberEventContent
		if err := b.cli.StateEvent(ctx, room, event.StateMember, m.User.String(), &now); err != nil && !errors.Is(err, mautrix.MNotFound) {
			return err
		}
		if in := now.Membership == event.MembershipJoin || now.Membership == event.MembershipInvite; in != m.Kick {
			return nil
		}
		b.log.Info().Stringer("room_id", room).Bool("kick", m.Kick).Msg("Lacking the power to invite or remove a member")
		return b.say(ctx, room, m.IfRefused)
	}
	return err
}

// joinAttempts bounds the tries of a join refused as forbidden.
const joinAttempts = 5

// membership invites a user into room or removes them, or joins it (a
// council the branch affiliated with). After a join it reads the room's
// state, so that what is queued next for the room is encrypted as the room
// requires.
func (b *Bot) membership(ctx context.Context, room id.RoomID, m msg.Membership) error {
	if m.User != "" {
		return b.inviteOrKick(ctx, room, m)
	}
	if m.Leave {
		_, err := b.cli.LeaveRoom(ctx, room, &mautrix.ReqLeave{Reason: m.Reason})
		return err
	}
	// An invite from another server reaches the bot while that server is
	// still storing it (it asked this one to sign it first): a join at once
	// can be refused as a join without invite. Try again for a few seconds.
	for attempt := 1; ; attempt++ {
		_, err := b.cli.JoinRoomByID(ctx, room)
		if err == nil {
			break
		}
		if attempt == joinAttempts || !errors.Is(err, mautrix.MForbidden) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Second):
		}
	}
	if _, known, err := b.st.Rooms().JoinedAt(ctx, room); err != nil {
		return err
	} else if !known {
		if err := b.st.Rooms().Joined(ctx, room, b.clock.Now().Add(-time.Second)); err != nil {
			return err
		}
	}
	if _, err := b.cli.State(ctx, room); err != nil {
		return fmt.Errorf("read the state of a room just joined: %w", err)
	}
	b.logRoom(ctx, b.log.Info(), room).Msg("Joined room")
	return nil
}
