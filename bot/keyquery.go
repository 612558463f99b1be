package bot

import (
	"context"
	"fmt"
	"slices"

	"maunium.net/go/mautrix/id"
)

// queryNewMembers fetches the device and cross-signing keys of the
// members of room the bot has never queried, one room at a time, when the
// next message there will share a new megolm session.
//
// Why: when mautrix shares a session with a member it has not queried, it
// queries their keys and stores their devices before their cross-signing
// keys. A share in another room at that moment finds the devices stored,
// takes them for not cross-signed, and withholds the room key from them
// (code m.unverified) for the whole life of that session: the member
// cannot read the bot there. It happens when the bot posts in several
// rooms at once to a member it has just met. Queried here first, under one
// lock, the keys are all stored before any share reads them.
func (b *Bot) queryNewMembers(ctx context.Context, room id.RoomID) error {
	if b.crypto == nil {
		return nil
	}
	if enc, err := b.cli.StateStore.IsEncrypted(ctx, room); err != nil || !enc {
		return err
	}
	mach := b.crypto.Machine()
	sess, err := mach.CryptoStore.GetOutboundGroupSession(ctx, room)
	if err != nil {
		return fmt.Errorf("read outbound session: %w", err)
	}
	if sess != nil && sess.Shared && !sess.Expired() {
		return nil // no share before the next message
	}
	b.queryMu.Lock()
	defer b.queryMu.Unlock()
	members, err := b.cli.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
	if err != nil {
		return fmt.Errorf("read members: %w", err)
	}
	known, err := mach.CryptoStore.FilterTrackedUsers(ctx, members)
	if err != nil {
		return fmt.Errorf("read known members: %w", err)
	}
	tracked := make(map[id.UserID]bool, len(known)) // a set: a room may hold thousands
	for _, u := range known {
		tracked[u] = true
	}
	members = slices.DeleteFunc(members, func(u id.UserID) bool { return tracked[u] })
	if len(members) == 0 {
		return nil
	}
	if _, err := mach.FetchKeys(ctx, members, true); err != nil {
		// Not the message's failure: the share queries them again.
		b.logRoom(ctx, b.log.Warn().Err(err), room).Msg("Could not query new members' keys")
	}
	return nil
}
