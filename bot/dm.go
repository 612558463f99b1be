package bot

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"

	"quorum/commands"
	"quorum/msg"
	"quorum/store"
)

// A member's direct room holds what is for them alone: ballots, receipts,
// private places, reminders. It is kept to the two of them:
//   - it is created so that only the bot can invite (the member's power level
//     is 0, inviting needs 50) and newcomers see nothing from before they
//     were invited (history visibility "invited");
//   - before anything is sent there, the room's joined and invited members
//     are read from the homeserver (the sync may not have told of an invite
//     yet) and must be the bot and the member exactly (in a room created
//     just now, its creation request says who they are); and once a message is
//     encrypted, the megolm session it uses must have been given to no one
//     else (a join the sync brought in between);
//   - a join or invite of anyone else, seen in the sync, or found by those
//     checks, makes the bot leave the room for good, move what was queued
//     there to a new direct room, and tell the member there why; so does,
//     at the next message, a room made before all this (the
//     trusted_private_chat preset gave the member the power to invite).
//
// A homeserver admin can still put someone in the room (nothing in Matrix
// stops them): what the bot sends after that goes to a new room instead.

// dmMarker is a state event put into each direct room the bot creates, with
// a random token recorded before the request, so that a creation that failed
// after the room was made (the invite failed, or the answer was lost) finds
// that room again instead of making another.
var dmMarker = event.Type{Type: "quorum.dm", Class: event.StateEventType}

type dmMarkerContent struct {
	Token string `json:"token"`
}

// dmExplanations are what the member is told in a new direct room about
// why the previous one was left.
var dmExplanations = map[store.DMReplaced]msg.Text{
	store.DMIntruded: msg.T("I left our previous private chat because someone else was invited into it or joined it, " +
		"and what I send you (ballots, receipts, reminders) is for you alone. We continue here."),
	store.DMMoved: msg.T("I moved our private chat to this room, where only I can invite anyone, " +
		"so that what I send you (ballots, receipts, reminders) stays between us. We continue here."),
}

// kindOpenDM is an outbox entry that only makes sure the member has a
// direct room (and is told why the last one was left): queued when a
// stranger is seen joining it, so that the member hears of it at once.
const kindOpenDM = "dm.open"

// errDMReplaced is returned for an entry whose direct room was just left:
// it goes to the member's new direct room on the next try.
var errDMReplaced = errors.New("direct room left: someone else was in it")

// errDMQuota is returned for an entry to a member whose direct rooms were
// created too often: it waits, and is retried.
var errDMQuota = errors.New("too many direct rooms created for this member today")

// dmQuota bounds how many direct rooms the bot creates for one member in a
// day: a member who leaves each new one and asks for another (or lets
// someone in, which makes the bot leave it) would otherwise fill the
// homeserver with rooms. It is kept in memory: a restart forgets it, which
// lets a few more through, no more.
type dmQuota struct {
	mu      sync.Mutex
	created map[id.UserID][]time.Time
}

const (
	maxDMCreations   = 5
	dmCreationWindow = 24 * time.Hour
)

// take says whether another direct room may be created for user now, and
// counts it if so.
func (q *dmQuota) take(user id.UserID, now time.Time) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	recent := slices.DeleteFunc(q.created[user], func(at time.Time) bool { return now.Sub(at) >= dmCreationWindow })
	if len(recent) >= maxDMCreations {
		q.created[user] = recent
		return false
	}
	if q.created == nil {
		q.created = map[id.UserID][]time.Time{}
	}
	q.created[user] = append(recent, now)
	return true
}

// dmRoom returns the encrypted direct room with user, creating it on first
// use (marked as direct in the bot's m.direct, as the spec asks) and reusing
// it afterwards. created says it was made by this call, its creation
// answered: then it holds the bot, joined, and the member, invited.
func (b *Bot) dmRoom(ctx context.Context, user id.UserID) (room id.RoomID, created bool, err error) {
	room, ok, err := b.st.DMs().Room(ctx, user)
	if err != nil || ok {
		return room, false, err
	}
	token, _, err := b.st.DMs().Pending(ctx, user)
	if err != nil {
		return "", false, err
	}
	if token != "" {
		// A creation was begun and not finished: the room may exist.
		if room, found, err := b.findCreated(ctx, token); err != nil {
			return "", false, err
		} else if found {
			b.log.Info().Msg("Found a direct room whose creation had not finished; using it")
			return room, false, b.adopt(ctx, user, room)
		}
	} else {
		if !b.dmQuota.take(user, b.clock.Now()) {
			b.log.Warn().Msg("A member's direct rooms were created too often today; the next waits") // not who: it is a direct room
			return "", false, errDMQuota
		}
		token = rand.Text()
		if err := b.st.DMs().Creating(ctx, user, token); err != nil {
			return "", false, err
		}
	}
	resp, err := b.cli.CreateRoom(ctx, b.dmRequest(user, token))
	if err != nil {
		return "", false, fmt.Errorf("create: %w", err)
	}
	if err := b.adopt(ctx, user, resp.RoomID); err != nil {
		return "", false, err
	}
	b.log.Info().Msg("Created a direct room") // which, or with whom, would pair them in the log
	return resp.RoomID, true, nil
}

// dmRequest is how a direct room is created: private, encrypted, the member
// invited as to a direct chat but below the power to invite anyone.
func (b *Bot) dmRequest(user id.UserID, token string) *mautrix.ReqCreateRoom {
	invite, kick, ban, redact, stateDefault := 50, 50, 50, 50, 50
	return &mautrix.ReqCreateRoom{
		Preset:   "private_chat",
		Invite:   []id.UserID{user},
		IsDirect: true,
		PowerLevelOverride: &event.PowerLevelsEventContent{
			Users:           map[id.UserID]int{b.cli.UserID: 100},
			InvitePtr:       &invite,
			KickPtr:         &kick,
			BanPtr:          &ban,
			RedactPtr:       &redact,
			StateDefaultPtr: &stateDefault,
			Events: map[string]int{
				event.StatePowerLevels.Type:       100,
				event.StateHistoryVisibility.Type: 100,
				event.StateEncryption.Type:        100,
				event.StateJoinRules.Type:         100,
				event.StateTombstone.Type:         100,
			},
		},
		InitialState: []*event.Event{
			{Type: event.StateEncryption, Content: event.Content{Parsed: &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}}},
			{Type: event.StateHistoryVisibility, Content: event.Content{Parsed: &event.HistoryVisibilityEventContent{HistoryVisibility: event.HistoryVisibilityInvited}}},
			{Type: dmMarker, Content: event.Content{Raw: map[string]any{"token": token}}},
		},
	}
}

// findCreated looks among the rooms the bot is in, other than known direct
// rooms, for the one created with token.
func (b *Bot) findCreated(ctx context.Context, token string) (id.RoomID, bool, error) {
	joined, err := b.cli.JoinedRooms(ctx)
	if err != nil {
		return "", false, fmt.Errorf("list rooms: %w", err)
	}
	known, err := b.st.DMs().Rooms(ctx)
	if err != nil {
		return "", false, err
	}
	for _, room := range joined.JoinedRooms {
		if known[room] {
			continue
		}
		var marker dmMarkerContent
		err := b.cli.StateEvent(ctx, room, dmMarker, "", &marker)
		if isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusForbidden) {
			continue
		} else if err != nil {
			return "", false, fmt.Errorf("read room state: %w", err)
		}
		if marker.Token == token {
			return room, true, nil
		}
	}
	return "", false, nil
}

// adopt records room, just created (or found again), as the direct room
// with user.
func (b *Bot) adopt(ctx context.Context, user id.UserID, room id.RoomID) error {
	if err := b.st.DMs().Created(ctx, user, room); err != nil {
		return err
	}
	// Tell the state store now, before the sync does: the first message
	// must be encrypted (the members are read before each send).
	if err := b.cli.StateStore.SetEncryptionEvent(ctx, room, &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}); err != nil {
		return err
	}
	if err := b.st.Rooms().Joined(ctx, room, b.clock.Now()); err != nil {
		return err
	}
	b.markDirect(ctx, user, room)
	return nil
}

// markDirect adds room to the bot's m.direct account data. Failing here only
// affects how clients label the room, so it is logged, not fatal.
func (b *Bot) markDirect(ctx context.Context, user id.UserID, room id.RoomID) {
	b.directMu.Lock()
	defer b.directMu.Unlock()
	direct := map[id.UserID][]id.RoomID{}
	if err := b.cli.GetAccountData(ctx, event.AccountDataDirectChats.Type, &direct); err != nil {
		var httpErr mautrix.HTTPError
		if !errors.As(err, &httpErr) || !httpErr.IsStatus(404) {
			b.log.Warn().Err(err).Msg("Could not read m.direct")
			return
		}
	}
	direct[user] = append(direct[user], room)
	if err := b.cli.SetAccountData(ctx, event.AccountDataDirectChats.Type, direct); err != nil {
		b.log.Warn().Err(err).Msg("Could not update m.direct")
	}
}

// dmState is what the homeserver says of a direct room's members.
type dmState int

const (
	dmPrivate    dmState = iota // the bot and the member, joined or invited
	dmNotInvited                // the bot alone, the member never invited (the invite at creation failed)
	dmIntruded                  // someone else joined or invited
	dmAbandoned                 // the member left or was removed, or the bot is not in it
)

// checkDM reads room's members from the homeserver (which also brings the
// state store, used to share the room's keys, up to date).
func (b *Bot) checkDM(ctx context.Context, user id.UserID, room id.RoomID) (dmState, error) {
	resp, err := b.cli.Members(ctx, room)
	if isStatus(err, http.StatusForbidden) || isStatus(err, http.StatusNotFound) {
		return dmAbandoned, nil // the bot is not in it any more
	} else if err != nil {
		return 0, fmt.Errorf("read members: %w", err)
	}
	members := map[id.UserID]event.Membership{}
	for _, evt := range resp.Chunk {
		if evt.Type == event.StateMember && evt.StateKey != nil {
			members[id.UserID(*evt.StateKey)] = evt.Content.AsMember().Membership
		}
	}
	return dmVerdict(b.cli.UserID, user, members), nil
}

// dmVerdict judges a direct room by its members' memberships.
func dmVerdict(bot, user id.UserID, members map[id.UserID]event.Membership) dmState {
	for who, m := range members {
		if who != bot && who != user && (m == event.MembershipJoin || m == event.MembershipInvite || m == event.MembershipKnock) {
			return dmIntruded
		}
	}
	if members[bot] != event.MembershipJoin {
		return dmAbandoned
	}
	switch members[user] {
	case event.MembershipJoin, event.MembershipInvite:
		return dmPrivate
	case "":
		return dmNotInvited
	}
	return dmAbandoned
}

// privateDM returns user's direct room once it holds the two of them only,
// replacing rooms that do not, and says there why if it was replaced.
func (b *Bot) privateDM(ctx context.Context, user id.UserID, outID int64) (id.RoomID, error) {
	for range 3 {
		room, created, err := b.dmRoom(ctx, user)
		if err != nil {
			return "", err
		}
		// A room created just now holds what its creation put there: the
		// bot, the member invited, and no one who could have invited anyone
		// else; mautrix's state store has them from the request. The
		// homeserver's member list may not show them yet (Dendrite answers
		// /members from its sync stream, which lags behind its rooms), and
		// believing it left new rooms as abandoned and re-invited members
		// who had joined (bench/README.md). Whoever got in all the same is
		// not given the room key (it goes to the members the state store
		// lists) and is caught in the sync, or at the next message.
		state := dmPrivate
		if !created {
			if state, err = b.checkDM(ctx, user, room); err != nil {
				return "", err
			}
		}
		switch state {
		case dmNotInvited:
			if _, err := b.cli.InviteUser(ctx, room, &mautrix.ReqInviteUser{UserID: user}); err != nil {
				return "", fmt.Errorf("invite: %w", err)
			}
			fallthrough
		case dmPrivate:
			if !b.memberCanInvite(ctx, user, room) {
				return room, b.explain(ctx, user, room, outID)
			}
			if err := b.leaveDM(ctx, user, room, store.DMMoved); err != nil {
				return "", err
			}
		case dmIntruded:
			if err := b.leaveDM(ctx, user, room, store.DMIntruded); err != nil {
				return "", err
			}
		case dmAbandoned:
			if err := b.leaveDM(ctx, user, room, store.DMNotReplaced); err != nil {
				return "", err
			}
		}
	}
	return "", errors.New("direct room replaced three times in a row")
}

// memberCanInvite says whether user has the power to invite in room, as in
// the direct rooms made before they were kept to two (the
// trusted_private_chat preset gave the member 100). The state store's power
// levels are enough here: the members are checked before each send anyway.
func (b *Bot) memberCanInvite(ctx context.Context, user id.UserID, room id.RoomID) bool {
	pl, err := b.cli.StateStore.GetPowerLevels(ctx, room)
	if err != nil || pl == nil {
		return false
	}
	return pl.GetUserLevel(user) >= pl.Invite()
}

// checkRoom makes sure a direct room, addressed by its ID (a reply to a
// command sent there), still holds the bot and its member only. If not,
// the entries queued for it go to the member's next direct room.
func (b *Bot) checkRoom(ctx context.Context, user id.UserID, room id.RoomID, outID int64) error {
	state, err := b.checkDM(ctx, user, room)
	if err != nil {
		return err
	}
	switch {
	case state == dmPrivate && !b.memberCanInvite(ctx, user, room):
		return b.explain(ctx, user, room, outID)
	case state == dmPrivate:
		err = b.leaveDM(ctx, user, room, store.DMMoved)
	case state == dmIntruded:
		err = b.leaveDM(ctx, user, room, store.DMIntruded)
	default:
		err = b.leaveDM(ctx, user, room, store.DMNotReplaced)
	}
	if err != nil {
		return err
	}
	return errDMReplaced
}

// explain tells user, once, why their previous direct room was left.
func (b *Bot) explain(ctx context.Context, user id.UserID, room id.RoomID, outID int64) error {
	_, why, err := b.st.DMs().Pending(ctx, user)
	explanation, ok := dmExplanations[why]
	if err != nil || !ok {
		return err
	}
	txnID := fmt.Sprintf("quorum.%s.explain.%d", b.st.ID, outID)
	m := msg.FromText(explanation).Localize(b.userLang(ctx, user))
	if err := b.sendMessage(ctx, room, user, m, txnID); err != nil {
		return err
	}
	return b.st.DMs().Explained(context.WithoutCancel(ctx), user)
}

// leaveDM leaves user's direct room for good: after someone else got in,
// or because it lets the member invite (the member is told why in the next
// room), or when it no longer serves (the member left it: why is
// DMNotReplaced). What was queued for the room goes to the member's next
// direct room instead.
func (b *Bot) leaveDM(ctx context.Context, user id.UserID, room id.RoomID, why store.DMReplaced) error {
	switch why {
	case store.DMIntruded:
		b.log.Warn().Msg("Someone else was let into a member's direct room; leaving it and opening a new one")
	case store.DMMoved:
		b.log.Info().Msg("Moving a member's direct room made before members were kept from inviting")
	}
	_, err := b.cli.LeaveRoom(ctx, room, &mautrix.ReqLeave{Reason: msg.T("This chat is for one member and the bot only.").In(b.userLang(ctx, user))})
	if err != nil && !isStatus(err, http.StatusForbidden) && !isStatus(err, http.StatusNotFound) {
		return fmt.Errorf("leave: %w", err)
	}
	return b.st.Tx(ctx, func(ctx context.Context) error {
		if why != store.DMNotReplaced {
			err = b.st.DMs().Replaced(ctx, user, room, why)
		} else {
			err = b.st.DMs().Forget(ctx, room)
		}
		if err != nil {
			return err
		}
		if err := b.readdress(ctx, user, room); err != nil {
			return err
		}
		return b.st.Rooms().Left(ctx, room)
	})
}

// readdress moves the entries queued for room, a direct room being left, to
// user's next direct room. Replies lose their reply (the event replied to
// stays in the old room); what only makes sense in the old room (a
// redaction, a power level) is dropped.
func (b *Bot) readdress(ctx context.Context, user id.UserID, room id.RoomID) error {
	list, err := b.st.Outbox().ForRoom(ctx, room)
	if err != nil {
		return err
	}
	for _, o := range list {
		var payload json.RawMessage
		switch o.Kind {
		case commands.KindMessage:
			var m msg.Message
			if err := json.Unmarshal(o.Payload, &m); err == nil {
				m.ReplyTo, m.ReplyToAnchor = "", nil
				payload = msg.Marshal(m)
			}
		case commands.KindFile:
			var f msg.File
			if err := json.Unmarshal(o.Payload, &f); err == nil {
				f.ReplyTo = ""
				payload = msg.Marshal(f)
			}
		}
		if payload == nil {
			b.giveUp(ctx, o, "it belonged to a direct room that was left") // logged, not for members
			continue
		}
		if err := b.st.Outbox().Readdress(ctx, o.ID, user, payload); err != nil {
			return err
		}
	}
	return nil
}

// onDMIntrusion reacts to someone other than the bot and the member joining
// or being invited into a direct room: leave it, and open a new one at once
// (an outbox entry), where the member is told why.
func (b *Bot) onDMIntrusion(ctx context.Context, user id.UserID, room id.RoomID) error {
	ctx = b.quiet(ctx)
	defer b.lockDM(user)()
	if current, ok, err := b.st.DMs().Room(ctx, user); err != nil || !ok || current != room {
		return err // left already, by the sender
	}
	if err := b.leaveDM(ctx, user, room, store.DMIntruded); err != nil {
		return err
	}
	_, err := b.st.Outbox().Add(ctx, store.Outgoing{DMUser: user, Kind: kindOpenDM, Payload: json.RawMessage("{}")}, b.clock.Now())
	return err
}

// keyHolders lists who was given the key of megolm session sess (mautrix
// records every device it shares a session with, and answers key requests
// only from those).
func (b *Bot) keyHolders(ctx context.Context, sess id.SessionID) ([]id.UserID, error) {
	rows, err := b.st.DB.Query(ctx, "SELECT DISTINCT user_id FROM crypto_megolm_outbound_session_shared WHERE session_id=$1", sess)
	list, err := dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[id.UserID], err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read key recipients: %w", err)
	}
	return list, nil
}

// quiet keeps mautrix from logging the requests made with ctx: it logs a
// failed request (the homeserver unreachable, say) with its URL, which
// names the room, a direct room here. The bot logs those failures itself,
// without the room (safeError).
func (b *Bot) quiet(ctx context.Context) context.Context {
	return b.cli.Log.Level(zerolog.FatalLevel).WithContext(ctx)
}

func isStatus(err error, code int) bool {
	var httpErr mautrix.HTTPError
	return errors.As(err, &httpErr) && httpErr.IsStatus(code)
}
