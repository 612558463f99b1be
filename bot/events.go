package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// guard wraps a handler so that no event, however malformed, can crash the
// bot or stop the sync. Handler errors are logged without event content.
func (b *Bot) guard(fn func(ctx context.Context, evt *event.Event) error) mautrix.EventHandler {
	return func(ctx context.Context, evt *event.Event) {
		defer func() {
			if r := recover(); r != nil {
				b.logEvent(ctx, b.log.Error().Str("panic", fmt.Sprint(r)).Str("stack", string(debug.Stack())), evt.RoomID, evt.ID).
					Msg("Handler panicked; event skipped")
			}
		}()
		if b.refusedCommand(evt) {
			return // answered already: the database could not be written (storage.go)
		}
		// A handler cut short by the stop failed for that reason alone, not
		// for the event's: nothing to report.
		if err := fn(ctx, evt); err != nil && ctx.Err() == nil && !b.storageFailed(ctx, evt, err) {
			b.logEvent(ctx, b.log.Error().Err(err), evt.RoomID, evt.ID).
				Str("type", evt.Type.Type).Msg("Handling event failed")
		}
		b.wake()
	}
}

// fresh says whether evt is something to act on: from someone else, in a
// room the bot is in, and not from before the bot joined.
func (b *Bot) fresh(ctx context.Context, evt *event.Event) (bool, error) {
	if evt.Sender == b.cli.UserID || evt.RoomID == "" || slices.Contains(b.cfg.IgnoredUsers, string(evt.Sender)) {
		return false, nil
	}
	if evt.Mautrix.EventSource&event.SourceTimeline == 0 && evt.Mautrix.EventSource&event.SourceDecrypted == 0 {
		return false, nil
	}
	joined, ok, err := b.st.Rooms().JoinedAt(ctx, evt.RoomID)
	if err != nil {
		return false, err
	}
	if !ok {
		// A room the database does not know (the database was reset while
		// the bot stayed in the room): start from now, never replay history.
		if !b.cli.StateStore.IsInRoom(ctx, evt.RoomID, b.cli.UserID) {
			return false, nil
		}
		b.log.Info().Stringer("room_id", evt.RoomID).Msg("Found a room missing from the database; handling events from now on")
		return false, b.st.Rooms().Joined(ctx, evt.RoomID, b.clock.Now())
	}
	return !b.eventTime(evt).Before(joined), nil
}

// encryptedRoom reports whether room is encrypted; in an unencrypted room
// (when encryption is required) it says so once and reports false.
func (b *Bot) encryptedRoom(ctx context.Context, room id.RoomID) (bool, error) {
	enc, err := b.cli.StateStore.IsEncrypted(ctx, room)
	if err != nil || enc || !b.cfg.RequireEncryption {
		return enc || !b.cfg.RequireEncryption, err
	}
	first, err := b.st.Rooms().MarkWarnedUnencrypted(ctx, room)
	if err != nil || !first {
		return false, err
	}
	m := msg.F("I only work in encrypted rooms: what is said here can be read by the homeserver's admins. " +
		"Turn on encryption in the room settings (Security & Privacy), then send `!help`.")
	m = m.Localize(b.lang(ctx, room))
	m.Plaintext = true
	_, err = b.st.Outbox().Add(ctx, store.Outgoing{Room: room, Kind: commands.KindMessage, Payload: msg.Marshal(m)}, b.clock.Now())
	b.log.Info().Stringer("room_id", room).Msg("Room is not encrypted; told it once and ignoring it")
	return false, err
}

func (b *Bot) onMessage(ctx context.Context, evt *event.Event) error {
	ok, err := b.fresh(ctx, evt)
	if err != nil || !ok {
		return err
	}
	content := evt.Content.AsMessage()
	if content.MsgType == event.MsgNotice && content.RelatesTo.GetReplaceID() == "" {
		return b.onNotice(ctx, evt)
	}
	// Notices are other bots talking; edits of a command are not a new command.
	if content.MsgType != event.MsgText || content.RelatesTo.GetReplaceID() != "" {
		return nil
	}
	content.RemoveReplyFallback()
	body := strings.ToValidUTF8(b.commandText(content), "\uFFFD")
	if !b.asm.IsCommand(body) {
		return nil
	}
	if ok, err := b.encryptedRoom(ctx, evt.RoomID); err != nil || !ok {
		return err
	}
	if branch, err := b.st.Federation().IsBranchIn(ctx, evt.RoomID); err != nil || branch {
		return err // a council where this bot speaks for its branch: the council's bot answers
	}
	if ok, err := b.obeys(ctx, evt); err != nil || !ok {
		return err
	}
	dmUser, _, err := b.st.DMs().User(ctx, evt.RoomID)
	if err != nil {
		return err
	}
	_, err = b.asm.HandleMessage(ctx, commands.Message{
		Room:   evt.RoomID,
		Sender: evt.Sender,
		Event:  evt.ID,
		Time:   b.eventTime(evt),
		Body:   body,
		InDM:   dmUser == evt.Sender,
	})
	return err
}

func (b *Bot) onReaction(ctx context.Context, evt *event.Event) error {
	ok, err := b.fresh(ctx, evt)
	if err != nil || !ok {
		return err
	}
	rel := evt.Content.AsReaction().RelatesTo
	if rel.Type != event.RelAnnotation || rel.EventID == "" || rel.Key == "" {
		return nil
	}
	// Only a reaction on one of the bot's messages can mean something (a
	// vote, an RSVP, an answer): only such a reaction is checked, and its
	// sender told if it does not count.
	if _, onAnchor, err := b.st.Anchors().Get(ctx, evt.RoomID, rel.EventID); err != nil || !onAnchor {
		return err
	}
	if ok, err := b.obeys(ctx, evt); err != nil || !ok {
		return err
	}
	return b.asm.HandleReaction(ctx, commands.Reaction{
		Room:   evt.RoomID,
		Sender: evt.Sender,
		Event:  evt.ID,
		Target: rel.EventID,
		Key:    strings.ToValidUTF8(rel.Key, ""),
		Time:   b.eventTime(evt),
	})
}

func (b *Bot) onRedaction(ctx context.Context, evt *event.Event) error {
	ok, err := b.fresh(ctx, evt)
	if err != nil || !ok {
		return err
	}
	target := evt.Redacts
	if target == "" {
		target = evt.Content.AsRedaction().Redacts
	}
	if target == "" {
		return nil
	}
	return b.asm.HandleRedaction(ctx, commands.Redaction{
		Room:    evt.RoomID,
		Sender:  evt.Sender,
		Event:   evt.ID,
		Redacts: target,
		Time:    b.eventTime(evt),
	})
}

func (b *Bot) onMember(ctx context.Context, evt *event.Event) error {
	member := evt.Content.AsMember()
	target := id.UserID(evt.GetStateKey())
	if target == b.cli.UserID {
		return b.onOwnMembership(ctx, evt, member.Membership)
	}
	if intruded, err := b.checkIntrusion(ctx, evt, target, member.Membership); err != nil || intruded {
		return err
	}
	ok, err := b.fresh(ctx, evt)
	if err != nil || !ok || evt.Mautrix.EventSource&event.SourceTimeline == 0 {
		return err
	}
	switch member.Membership {
	case event.MembershipLeave, event.MembershipBan:
		if user, isDM, err := b.st.DMs().User(ctx, evt.RoomID); err != nil {
			return err
		} else if isDM && user == target {
			// The member left their direct room: leave too and forget it
			// (the next DM makes a new one).
			defer b.lockDM(user)()
			if current, ok, err := b.st.DMs().Room(ctx, user); err != nil || !ok || current != evt.RoomID {
				return err
			}
			if err := b.leaveDM(b.quiet(ctx), user, evt.RoomID, store.DMNotReplaced); err != nil {
				if storageProblem(err) != "" {
					return err // the event comes again (storage.go)
				}
				return fmt.Errorf("leave a direct room the member left: %s", safeError(err))
			}
			return nil
		}
		return b.asm.HandleLeave(ctx, evt.RoomID, target, evt.ID, b.eventTime(evt))
	}
	return nil
}

// checkIntrusion reacts to anyone but the bot and the member joining, being
// invited to, or knocking on a member's direct room, whether the sync brings
// it in the timeline or in the room's state (after a gap): the bot leaves
// the room and opens a new one (dm.go).
func (b *Bot) checkIntrusion(ctx context.Context, evt *event.Event, target id.UserID, m event.Membership) (bool, error) {
	if m != event.MembershipJoin && m != event.MembershipInvite && m != event.MembershipKnock {
		return false, nil
	}
	if evt.Mautrix.EventSource&(event.SourceTimeline|event.SourceState) == 0 {
		return false, nil
	}
	user, isDM, err := b.st.DMs().User(ctx, evt.RoomID)
	if err != nil || !isDM || target == user {
		return false, err
	}
	if err := b.onDMIntrusion(ctx, user, evt.RoomID); err != nil {
		if storageProblem(err) != "" {
			return true, err // the event comes again (storage.go)
		}
		return true, fmt.Errorf("leave a direct room someone else got into: %s", safeError(err))
	}
	return true, nil
}

func (b *Bot) onOwnMembership(ctx context.Context, evt *event.Event, membership event.Membership) error {
	switch membership {
	case event.MembershipInvite:
		if evt.Mautrix.EventSource&event.SourceInvite == 0 {
			return nil
		}
		return b.onInvite(ctx, evt)
	case event.MembershipJoin:
		if evt.Mautrix.EventSource&event.SourceTimeline == 0 {
			return nil
		}
		// The join event's own timestamp is where this room's history for
		// the bot begins.
		var prev event.Membership
		if pc := evt.Unsigned.PrevContent; pc != nil {
			_ = pc.ParseRaw(event.StateMember)
			prev = pc.AsMember().Membership
		}
		if prev == event.MembershipJoin {
			return nil // a profile change, not a join
		}
		if err := b.st.Rooms().Joined(ctx, evt.RoomID, b.eventTime(evt)); err != nil {
			return err
		}
		if prev != event.MembershipInvite {
			// A room the bot created itself (a direct room): its encryption
			// event comes after the creator's join, and it is encrypted.
			return nil
		}
		_, err := b.encryptedRoom(ctx, evt.RoomID)
		return err
	case event.MembershipLeave, event.MembershipBan:
		if evt.Mautrix.EventSource&(event.SourceTimeline|event.SourceLeave) == 0 {
			return nil
		}
		if _, known, err := b.st.Rooms().JoinedAt(ctx, evt.RoomID); err != nil {
			return err
		} else if !known {
			return nil // left on purpose, a direct room among them (dm.go): nothing to log or forget
		}
		b.logRoom(ctx, b.log.Info(), evt.RoomID).Msg("Left room")
		if err := b.st.DMs().Forget(ctx, evt.RoomID); err != nil {
			return err
		}
		return b.st.Rooms().Left(ctx, evt.RoomID)
	}
	return nil
}

// botNotices are the fields of other bots' notices that the rules read:
// in a council, a branch's announcement, results and council delegates;
// where this bot sits for its branch, the council's federal motions.
var botNotices = []string{"quorum.branch", "quorum.branch_result", "quorum.branch_left", "quorum.council_delegate", "quorum.motion"}

// onNotice passes another bot's machine-readable notice (a branch's bot
// announcing its branch in a council) to the rules, if it came encrypted
// from a session its sender's identity signed, like a command.
func (b *Bot) onNotice(ctx context.Context, evt *event.Event) error {
	fields := map[string]json.RawMessage{}
	for _, key := range botNotices {
		if v, ok := evt.Content.Raw[key]; ok {
			raw, err := json.Marshal(v)
			if err != nil {
				return nil
			}
			fields[key] = raw
		}
	}
	if len(fields) == 0 {
		return nil
	}
	// Only in a council or where this bot sits for its branch: elsewhere
	// other bots' notices are none of its business (and not answered).
	if _, council, err := b.st.Federation().Council(ctx, evt.RoomID); err != nil {
		return err
	} else if !council {
		if branch, err := b.st.Federation().IsBranchIn(ctx, evt.RoomID); err != nil || !branch {
			return err
		}
	}
	if ok, err := b.encryptedRoom(ctx, evt.RoomID); err != nil || !ok {
		return err
	}
	if ok, err := b.obeys(ctx, evt); err != nil || !ok {
		return err
	}
	return b.asm.HandleNotice(ctx, commands.Notice{Room: evt.RoomID, Sender: evt.Sender, Event: evt.ID, Time: b.eventTime(evt), Fields: fields})
}

// onInvite accepts invites from allowed inviters and rejects the others,
// unless the rules decide it: an invite into a council the bot's branch
// voted to affiliate with is accepted whoever sent it, and a council's
// admission before that vote is kept waiting.
func (b *Bot) onInvite(ctx context.Context, evt *event.Event) error {
	answer, err := b.asm.HandleInvite(ctx, commands.Invite{Room: evt.RoomID, Inviter: evt.Sender,
		Reason: evt.Content.AsMember().Reason, Time: b.eventTime(evt)})
	if err != nil {
		return err
	}
	switch answer {
	case commands.InviteAccepted:
		b.log.Info().Stringer("room_id", evt.RoomID).Stringer("inviter", evt.Sender).Msg("Joining a council the branch affiliated with")
		return nil // the join is queued, before the branch's announcement
	case commands.InviteKept:
		b.log.Info().Stringer("room_id", evt.RoomID).Stringer("inviter", evt.Sender).Msg("Keeping a council's invite until the branch votes to affiliate")
		return nil
	}
	if !b.cfg.InviterAllowed(evt.Sender) {
		b.log.Info().Stringer("room_id", evt.RoomID).Stringer("inviter", evt.Sender).Msg("Rejecting invite from someone not in allowed_inviters")
		reason := msg.T("This Quorum bot only accepts invites from its operators' allowed inviters.").In(b.lang(ctx, evt.RoomID))
		_, err := b.cli.LeaveRoom(ctx, evt.RoomID, &mautrix.ReqLeave{Reason: reason})
		return err
	}
	if _, err := b.cli.JoinRoomByID(ctx, evt.RoomID); err != nil {
		return fmt.Errorf("join after invite: %w", err)
	}
	b.log.Info().Stringer("room_id", evt.RoomID).Stringer("inviter", evt.Sender).Msg("Joined room")
	// Until the join event arrives, the local time is the best guess of
	// where the room's history for the bot begins.
	if _, known, err := b.st.Rooms().JoinedAt(ctx, evt.RoomID); err != nil || known {
		return err
	}
	return b.st.Rooms().Joined(ctx, evt.RoomID, b.clock.Now().Add(-time.Second))
}

// botToBot says whether a message in room from sender passes between bots
// of a federation: in a council this bot sits in for a branch (it takes no
// commands there), or from a branch's bot in this bot's council. A notice
// that it could not be decrypted helps no one there, and with many bots
// whose keys come late, such notices are what flooded a council of 50
// branches (bench/README.md, "Found").
func (b *Bot) botToBot(ctx context.Context, room id.RoomID, sender id.UserID) (bool, error) {
	if branch, err := b.st.Federation().IsBranchIn(ctx, room); err != nil || branch {
		return branch, err
	}
	_, admitted, err := b.st.Federation().Branch(ctx, room, sender)
	return admitted, err
}

// onUndecryptable says in the room, once per megolm session, that a message
// could not be decrypted, with a hint, instead of staying silent.
func (b *Bot) onUndecryptable(evt *event.Event, err error) {
	if b.stopping() {
		return // the wait for a key was cut short: the event is looked at again on start
	}
	ctx := context.Background()
	if b.storageFailed(ctx, evt, err) {
		return // decrypting records the message index: it comes again (storage.go)
	}
	if seen, _ := b.st.Handled().Seen(ctx, evt.ID); seen {
		// Handled already (it came again after a restart), and the bot has
		// forgotten its key since, on purpose (forget.go): nothing to say.
		b.keyDone(ctx, evt.ID)
		return
	}
	if ok, ferr := b.fresh(ctx, evt); ferr != nil || !ok || evt.Unsigned.RedactedBecause != nil {
		b.keyDone(ctx, evt.ID)
		return // a redacted event has nothing left to decrypt
	}
	if !b.keepGivenUp(ctx, evt, err) {
		b.keyDone(ctx, evt.ID) // given up on for good
	}
	session := evt.Content.AsEncrypted().SessionID
	b.warnedMu.Lock()
	seen := b.warnedSessions[session]
	b.warnedSessions[session] = true
	b.warnedMu.Unlock()
	if seen {
		return
	}
	b.logRoom(ctx, b.log.Warn().Err(err), evt.RoomID).Stringer("sender", evt.Sender).Msg("Could not decrypt a message")
	if quiet, qerr := b.botToBot(ctx, evt.RoomID, evt.Sender); qerr != nil || quiet {
		return
	}
	m := msg.F("I couldn't decrypt a message from %s, so I can't act on it. "+
		"If your client only shares keys with verified devices, verify me (see my profile) or turn that setting off; then send it again.", evt.Sender.String()).
		Localize(b.lang(ctx, evt.RoomID))
	m.ReplyTo = evt.ID
	_, qerr := b.st.Outbox().Add(ctx, store.Outgoing{Room: evt.RoomID, Kind: commands.KindMessage, Payload: msg.Marshal(m.Mention(evt.Sender))}, b.clock.Now())
	if qerr != nil {
		b.log.Error().Err(qerr).Msg("Could not queue the decryption notice")
	}
	b.wake()
}
