package commands

import (
	"context"

	"maunium.net/go/mautrix/id"

	"quorum/msg"
	"quorum/record"
)

// RecordDecision appends a decision to room's chain and returns the
// quorum.record field to post with it, so members who keep the room history
// hold the chain head.
func (e *Env) RecordDecision(ctx context.Context, room id.RoomID, kind string, content any) (record.Entry, map[string]any, error) {
	// A method value: the catalog tests read every call of an Append as a
	// message's, with its format first.
	add := e.Store.Records().Append
	entry, err := add(ctx, room, kind, content, e.Clock.Now())
	if err != nil {
		return entry, nil, err
	}
	return entry, map[string]any{"seq": entry.Seq, "hash": entry.Hash}, nil
}

// RecordChange appends a decision that is not a vote (a roster change, an
// accepted swap, a mandate granted or ended) and returns m with the entry
// line and quorum.record added, so the chain head reaches the room with it.
func (e *Env) RecordChange(ctx context.Context, room id.RoomID, kind string, content any, m msg.Message) (msg.Message, error) {
	entry, field, err := e.RecordDecision(ctx, room, kind, content)
	if err != nil {
		return m, err
	}
	return m.Append("%s", RecordLine(entry)).With("quorum.record", field), nil
}

// RecordLine is how a decision's record entry is shown in the room.
func RecordLine(e record.Entry) msg.Text {
	return msg.T("Record entry %d, chain head %s.", e.Seq, e.Short())
}
