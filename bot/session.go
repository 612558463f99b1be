package bot

import (
	"context"
	"fmt"
	"maps"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// When the bot's megolm session in a room ends. mautrix's crypto machine
// throws a room's outbound session away on every membership event of that
// room other than invite → join, leave ↔ ban or no change
// (crypto/machine.go, OlmMachine.HandleMemberEvent), so that whoever left
// cannot read what comes next, and whoever came gets a key with the next
// message (it shares a session only once, with the members of that
// moment). An event without a previous membership (unsigned.prev_content)
// counts as a change from "unknown": a first invite or join.
//
// In a direct room the bot makes, that hits what needs no new session:
// the member is invited in the creation request, and the bot's sync brings
// that invite, and the bot's own join, only after the bot sent its first
// message there (a ballot, say), whose session went to the member's
// devices. Each next message (the receipt) then needed a new room key, sent
// to the member's devices just before it; in a ballot of 100 those keys
// came so late that devices gave the receipts up (bench/README.md).
//
// So the bot keeps the session on a first invite or join (no previous
// membership) of someone it has given that very session already, or of
// itself: who holds the key is the same before and after. Everything else
// is left to mautrix: a leave, kick or ban ends the session as before, and
// a newcomer who lacks the key still makes a new one.
//
// A change of a member's devices or of their trust ends the sessions whose
// key is not held by exactly those of the member's devices that would get
// it now (renewSessions): a new device, one deleted, one verified since (it
// was sent a withheld notice), one no longer trusted.

// keepSession wraps mautrix's handler of membership events (next): it is
// skipped when the event changes nothing about who holds the room's
// session.
func (b *Bot) keepSession(mach func() *crypto.OlmMachine, next mautrix.EventHandler) mautrix.EventHandler {
	return func(ctx context.Context, evt *event.Event) {
		if m := mach(); m != nil && b.holdsSession(ctx, m, evt) {
			return
		}
		next(ctx, evt)
	}
}

// holdsSession says whether evt, a membership event, is a first invite or
// join of the bot itself or of someone the room's current outbound session
// was given to.
func (b *Bot) holdsSession(ctx context.Context, mach *crypto.OlmMachine, evt *event.Event) bool {
	content := evt.Content.AsMember()
	if evt.Unsigned.PrevContent != nil || evt.StateKey == nil ||
		(content.Membership != event.MembershipInvite && content.Membership != event.MembershipJoin) {
		return false
	}
	sess, err := mach.CryptoStore.GetOutboundGroupSession(ctx, evt.RoomID)
	if err != nil || sess == nil {
		return false // nothing to keep, or unknown: mautrix decides
	}
	user := id.UserID(*evt.StateKey)
	if user == b.cli.UserID {
		return true
	}
	held, err := b.heldBy(ctx, sess.ID(), user)
	return err == nil && len(held) > 0
}

// cryptoSyncer is the syncer as the crypto helper sees it while it
// registers its handlers (Init): the same, except that its handler of
// membership events goes behind keep (keepSession), and its handler of
// encrypted events is not given those skip holds.
type cryptoSyncer struct {
	*syncer
	keep func(mautrix.EventHandler) mautrix.EventHandler
	skip func(ctx context.Context, evt *event.Event) bool
}

func (s cryptoSyncer) OnEventType(t event.Type, fn mautrix.EventHandler) {
	switch t {
	case event.StateMember:
		fn = s.keep(fn)
	case event.EventEncrypted:
		inner := fn
		fn = func(ctx context.Context, evt *event.Event) {
			if !s.skip(ctx, evt) {
				inner(ctx, evt)
			}
		}
	}
	s.syncer.OnEventType(t, fn)
}

// renewSessions ends the bot's outbound megolm session in each encrypted
// room it shares with user unless the session's key went to exactly the
// devices of user that would get it if it were shared now (not blacklisted,
// trusted at least SendKeysMinTrust): then a new session would reach the
// same devices, and renewing it would only cost a key for every member.
func (b *Bot) renewSessions(ctx context.Context, user id.UserID) error {
	mach := b.crypto.Machine()
	rooms, err := mach.StateStore.FindSharedRooms(ctx, user)
	if err != nil {
		return fmt.Errorf("find shared rooms: %w", err)
	}
	devices, err := mach.CryptoStore.GetDevices(ctx, user)
	if err != nil {
		return fmt.Errorf("read devices: %w", err)
	}
	entitled := map[id.IdentityKey]bool{}
	for _, device := range devices {
		if device.Trust == id.TrustStateBlacklisted {
			continue
		}
		if trust, err := mach.ResolveTrustContext(ctx, device); err != nil {
			return fmt.Errorf("resolve trust: %w", err)
		} else if trust >= mach.SendKeysMinTrust {
			entitled[device.IdentityKey] = true
		}
	}
	for _, room := range rooms {
		sess, err := mach.CryptoStore.GetOutboundGroupSession(ctx, room)
		if err != nil {
			return fmt.Errorf("read outbound session: %w", err)
		} else if sess == nil {
			continue
		}
		held, err := b.heldBy(ctx, sess.ID(), user)
		if err != nil {
			return err
		}
		if maps.Equal(held, entitled) {
			continue
		}
		if err := mach.CryptoStore.RemoveOutboundGroupSession(ctx, room); err != nil {
			return fmt.Errorf("end outbound session: %w", err)
		}
	}
	return nil
}

// heldBy lists the identity keys of user's devices that were given the key
// of megolm session sess.
func (b *Bot) heldBy(ctx context.Context, sess id.SessionID, user id.UserID) (map[id.IdentityKey]bool, error) {
	rows, err := b.st.DB.Query(ctx, "SELECT identity_key FROM crypto_megolm_outbound_session_shared WHERE session_id=$1 AND user_id=$2", sess, user)
	keys, err := dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[id.IdentityKey], err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read key recipients: %w", err)
	}
	held := make(map[id.IdentityKey]bool, len(keys))
	for _, key := range keys {
		held[key] = true
	}
	return held, nil
}
