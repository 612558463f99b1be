package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"

	"quorum/record"
)

// Records is the hash-chained record of each room's decisions.
type Records struct{ db *dbutil.Database }

// Records returns the record table.
func (s *Store) Records() Records { return Records{s.DB} }

func scanEntry(row dbutil.Scannable) (*record.Entry, error) {
	var e record.Entry
	var at int64
	var content string
	if err := row.Scan(&e.Seq, &at, &e.Kind, &content, &e.Prev, &e.Hash); err != nil {
		return nil, err
	}
	e.Time = time.Unix(at, 0).UTC()
	e.Content = json.RawMessage(content)
	return &e, nil
}

const entryColumns = "seq, time, kind, content, prev, hash"

// Head returns the newest entry of room's chain, or nil if it is empty.
func (r Records) Head(ctx context.Context, room id.RoomID) (*record.Entry, error) {
	e, err := scanEntry(r.db.QueryRow(ctx,
		"SELECT "+entryColumns+" FROM record_entries WHERE room_id=$1 ORDER BY seq DESC LIMIT 1", room))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("read record head: %w", err)
	}
	return e, nil
}

// Append adds a decision to room's chain, linked to the current head, or to
// the room's genesis if the chain is empty (a chain begun before that rule
// keeps linking to its own head). Call it in the transaction that makes the
// decision.
func (r Records) Append(ctx context.Context, room id.RoomID, kind string, content any, at time.Time) (record.Entry, error) {
	head, err := r.Head(ctx, room)
	if err != nil {
		return record.Entry{}, err
	}
	var e record.Entry
	if head == nil {
		e, err = record.Start(string(room), kind, content, at)
	} else {
		e, err = record.Next(head, kind, content, at)
	}
	if err != nil {
		return record.Entry{}, fmt.Errorf("record %s: %w", kind, err)
	}
	_, err = r.db.Exec(ctx, `
		INSERT INTO record_entries (room_id, seq, time, kind, content, prev, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		room, e.Seq, e.Time.Unix(), e.Kind, string(e.Content), e.Prev, e.Hash)
	if err != nil {
		return record.Entry{}, fmt.Errorf("record %s: %w", kind, err)
	}
	return e, nil
}

// Between lists room's entries with from <= time < to, oldest first.
func (r Records) Between(ctx context.Context, room id.RoomID, from, to time.Time) ([]record.Entry, error) {
	rows, err := r.db.Query(ctx, "SELECT "+entryColumns+` FROM record_entries
		WHERE room_id=$1 AND time >= $2 AND time < $3 ORDER BY seq`, room, from.Unix(), to.Unix())
	list, err := dbutil.NewRowIterWithError(rows, scanEntry, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read record: %w", err)
	}
	out := make([]record.Entry, len(list))
	for i, e := range list {
		out[i] = *e
	}
	return out, nil
}
