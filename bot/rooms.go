package bot

import (
	"context"
	"slices"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// roomState answers the rules' questions about rooms from the synced state.
type roomState struct{ cli *mautrix.Client }

func (r roomState) Members(ctx context.Context, room id.RoomID) ([]id.UserID, error) {
	members, err := r.cli.StateStore.GetRoomJoinedOrInvitedMembers(ctx, room)
	if err != nil {
		return nil, err
	}
	joined := members[:0]
	for _, u := range members {
		if r.cli.StateStore.IsInRoom(ctx, room, u) {
			joined = append(joined, u)
		}
	}
	slices.Sort(joined)
	return joined, nil
}

func (r roomState) ResolveAlias(ctx context.Context, alias id.RoomAlias) (id.RoomID, error) {
	resp, err := r.cli.ResolveAlias(ctx, alias)
	if err != nil {
		return "", err
	}
	return resp.RoomID, nil
}

func (r roomState) PowerLevel(ctx context.Context, room id.RoomID, user id.UserID) (int, int, error) {
	pl, err := r.cli.StateStore.GetPowerLevels(ctx, room)
	if err != nil {
		return 0, 0, err
	}
	if pl == nil {
		pl = &event.PowerLevelsEventContent{}
	}
	return pl.GetUserLevel(user), pl.StateDefault(), nil
}
