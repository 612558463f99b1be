package bot

import (
	"context"
	"errors"
	"fmt"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// dmRoom returns the encrypted direct room with user, creating it on first
// use (marked as direct in the bot's m.direct, as the spec asks) and reusing
// it afterwards.
func (b *Bot) dmRoom(ctx context.Context, user id.UserID) (id.RoomID, error) {
	room, ok, err := b.st.DMs().Room(ctx, user)
	if err != nil || ok {
		return room, err
	}
	encryption := &event.EncryptionEventContent{Algorithm: id.AlgorithmMegolmV1}
	resp, err := b.cli.CreateRoom(ctx, &mautrix.ReqCreateRoom{
		Preset:   "trusted_private_chat",
		Invite:   []id.UserID{user},
		IsDirect: true,
		InitialState: []*event.Event{{
			Type:    event.StateEncryption,
			Content: event.Content{Parsed: encryption},
		}},
	})
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	room = resp.RoomID
	// Tell the state store now, before the sync does: the first message
	// must be encrypted and its keys shared with the invited member.
	if err := b.cli.StateStore.SetEncryptionEvent(ctx, room, encryption); err != nil {
		return "", err
	}
	if err := b.cli.StateStore.SetMembership(ctx, room, b.cli.UserID, event.MembershipJoin); err != nil {
		return "", err
	}
	if err := b.cli.StateStore.SetMembership(ctx, room, user, event.MembershipInvite); err != nil {
		return "", err
	}
	if err := b.st.Rooms().Joined(ctx, room, b.clock.Now()); err != nil {
		return "", err
	}
	if err := b.st.DMs().Set(ctx, user, room); err != nil {
		return "", err
	}
	b.markDirect(ctx, user, room)
	b.log.Info().Msg("Created a direct room") // which, or with whom, would pair them in the log
	return room, nil
}

// markDirect adds room to the bot's m.direct account data. Failing here only
// affects how clients label the room, so it is logged, not fatal.
func (b *Bot) markDirect(ctx context.Context, user id.UserID, room id.RoomID) {
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
