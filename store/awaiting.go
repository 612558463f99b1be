package store

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// AwaitingKeys lists encrypted events whose room key had not arrived when
// they were synced (see upgrades/07-awaiting-keys.sql). Nothing about an
// event is kept in the clear: event_id holds a keyed hash of its ID (to
// forget it by), room_id the room and ID sealed together (seal.go), and
// noted_at only the day.
type AwaitingKeys struct {
	db *dbutil.Database
	st *Store
}

// AwaitingKeys returns the table of events awaiting their key.
func (s *Store) AwaitingKeys() AwaitingKeys { return AwaitingKeys{s.DB, s} }

// Awaiting is an event awaiting its key.
type Awaiting struct {
	Event   id.EventID
	Room    id.RoomID
	NotedAt time.Time // the day it was noted (midnight UTC)
}

// hashedPrefix marks an event_id column that holds a keyed hash.
const hashedPrefix = "h:"

func (a AwaitingKeys) key(event id.EventID) (string, error) {
	hash, err := a.st.seal.mac("awaiting event", []byte(event))
	if err != nil {
		return "", err
	}
	return hashedPrefix + hex.EncodeToString(hash), nil
}

// Note records that event in room awaits its key (again: no change).
func (a AwaitingKeys) Note(ctx context.Context, room id.RoomID, event id.EventID, at time.Time) error {
	key, err := a.key(event)
	if err != nil {
		return fmt.Errorf("note event awaiting its key: %w", err)
	}
	sealed, err := a.st.seal.seal("awaiting event", []byte(string(room)+"\n"+string(event)), nil)
	if err != nil {
		return fmt.Errorf("note event awaiting its key: %w", err)
	}
	_, err = a.db.Exec(ctx, "INSERT INTO awaiting_keys (event_id, room_id, noted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		key, sealed, day(at)*86400*1000)
	if err != nil {
		return fmt.Errorf("note event awaiting its key: %w", err)
	}
	return nil
}

// Done forgets event: it was decrypted and handled, or given up on.
func (a AwaitingKeys) Done(ctx context.Context, event id.EventID) error {
	key, err := a.key(event)
	if err != nil {
		return fmt.Errorf("forget event awaiting its key: %w", err)
	}
	// Also an entry noted before they were hashed.
	if _, err := a.db.Exec(ctx, "DELETE FROM awaiting_keys WHERE event_id IN ($1, $2)", key, event); err != nil {
		return fmt.Errorf("forget event awaiting its key: %w", err)
	}
	return nil
}

// List returns the events still awaiting their key, oldest first. One that
// cannot be opened with the seal key is dropped: it cannot be fetched.
func (a AwaitingKeys) List(ctx context.Context) ([]*Awaiting, error) {
	rows, err := a.db.Query(ctx, "SELECT event_id, room_id, noted_at FROM awaiting_keys ORDER BY noted_at, event_id")
	type row struct {
		key  string
		room []byte
		at   int64
	}
	list, err := dbutil.NewRowIterWithError(rows, func(s dbutil.Scannable) (r row, err error) {
		err = s.Scan(&r.key, &r.room, &r.at)
		return
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("list events awaiting their key: %w", err)
	}
	var out []*Awaiting
	for _, r := range list {
		w := &Awaiting{Event: id.EventID(r.key), Room: id.RoomID(r.room), NotedAt: time.UnixMilli(r.at)}
		if strings.HasPrefix(r.key, hashedPrefix) {
			plain, err := a.st.seal.open("awaiting event", r.room, nil)
			if errors.Is(err, ErrSealKey) {
				if _, err := a.db.Exec(ctx, "DELETE FROM awaiting_keys WHERE event_id=$1", r.key); err != nil {
					return nil, fmt.Errorf("drop unreadable event awaiting its key: %w", err)
				}
				continue
			} else if err != nil {
				return nil, err
			}
			room, event, _ := strings.Cut(string(plain), "\n")
			w.Room, w.Event = id.RoomID(room), id.EventID(event)
		}
		out = append(out, w)
	}
	return out, nil
}
