package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Anchor ties a message the bot sent to the thing it stands for: a motion
// notice to its motion, a swap request to the swap. Reactions and replies to
// the message find their target through it.
type Anchor struct {
	Kind string
	Ref  int64
}

// Anchors maps bot messages to what they stand for.
type Anchors struct{ db *dbutil.Database }

// Anchors returns the anchors table.
func (s *Store) Anchors() Anchors { return Anchors{s.DB} }

// Put records that evt in room stands for a.
func (a Anchors) Put(ctx context.Context, evt id.EventID, room id.RoomID, to Anchor) error {
	_, err := a.db.Exec(ctx,
		"INSERT INTO anchors (event_id, room_id, kind, ref) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
		evt, room, to.Kind, to.Ref)
	if err != nil {
		return fmt.Errorf("record anchor: %w", err)
	}
	return nil
}

// Get returns what evt stands for, if anything. The room must match: a
// reaction in one room can never act on another room's motion.
func (a Anchors) Get(ctx context.Context, room id.RoomID, evt id.EventID) (Anchor, bool, error) {
	var to Anchor
	err := a.db.QueryRow(ctx, "SELECT kind, ref FROM anchors WHERE event_id=$1 AND room_id=$2", evt, room).
		Scan(&to.Kind, &to.Ref)
	if errors.Is(err, sql.ErrNoRows) {
		return Anchor{}, false, nil
	} else if err != nil {
		return Anchor{}, false, fmt.Errorf("read anchor: %w", err)
	}
	return to, true, nil
}

// Event returns the first message that stands for a, if it was sent yet.
func (a Anchors) Event(ctx context.Context, to Anchor) (id.RoomID, id.EventID, bool, error) {
	var room id.RoomID
	var evt id.EventID
	err := a.db.QueryRow(ctx,
		"SELECT room_id, event_id FROM anchors WHERE kind=$1 AND ref=$2 ORDER BY rowid LIMIT 1", to.Kind, to.Ref).
		Scan(&room, &evt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	} else if err != nil {
		return "", "", false, fmt.Errorf("read anchor: %w", err)
	}
	return room, evt, true, nil
}
