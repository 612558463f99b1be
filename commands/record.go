package commands

import (
	"context"
	"fmt"
	"quorum/msg"
	"quorum/record"

	"maunium.net/go/mautrix/id"
)

// RecordDecision appends a decision to room's chain and returns the
// quorum.record field to post with it, so members who keep the room history
// hold the chain head.
func (env *Env) RecordDecision(ctx context.Context, room id.RoomID, kind string, content any) (record.Entry, map[string]any, error) {
	e, err := env.Store.Records().Append(ctx, room, kind, content, env.Clock.Now())
	if err != nil {
		return e, nil, err
	}
	return e, map[string]any{"seq": e.Seq, "hash": e.Hash}, nil
}

// RecordChange appends a decision that is not a vote (a roster change, an
// accepted swap, a mandate granted or ended) and returns m with the entry
// line and quorum.record added, so the chain head reaches the room with it.
func (env *Env) RecordChange(ctx context.Context, room id.RoomID, kind string, content any, m msg.Message) (msg.Message, error) {
	e, field, err := env.RecordDecision(ctx, room, kind, content)
	if err != nil {
		return m, err
	}
	return m.Append("%s", RecordLine(e)).With("quorum.record", field), nil
}

// RecordLine is how a decision's record entry is shown in the room.
func RecordLine(e record.Entry) string {
	return fmt.Sprintf("Record entry %d, chain head %s.", e.Seq, e.Short())
}
