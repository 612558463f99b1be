package store

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Roster is a duty rotation's series: when its turns fall. Who has them is
// computed from its Schedule by package commands.
type Roster struct {
	ID        int64
	Room      id.RoomID
	Name      string // lower case
	Start     time.Time
	Zone      string
	RRule     string
	End       time.Time // zero: open-ended
	CreatedBy id.UserID
	CreatedAt time.Time
}

// RosterMember is one period of membership; Pos is the rotation order.
type RosterMember struct {
	Pos     int64
	User    id.UserID
	Added   time.Time
	Removed time.Time // zero: still a member
}

// Active says whether the member takes part in a turn starting at t.
func (m RosterMember) Active(t time.Time) bool {
	return !t.Before(m.Added) && (m.Removed.IsZero() || t.Before(m.Removed))
}

// Away is an absence: turns starting in [From, To) pass User over.
type Away struct {
	User     id.UserID
	From, To time.Time
}

// Schedule is everything that decides a roster's turns besides its series.
type Schedule struct {
	Members   []RosterMember // in rotation order
	Skips     map[int64]bool // turn starts (ms) that do not take place
	Aways     []Away
	Overrides map[int64]id.UserID // turn start (ms) -> who takes it instead
}

// Rosters is the rosters table and the tables of their inputs.
type Rosters struct{ db *dbutil.Database }

// Rosters returns the rosters tables.
func (s *Store) Rosters() Rosters { return Rosters{s.DB} }

const rosterColumns = "id, room_id, name, starts_at, zone, rrule, ends_at, created_by, created_at"

func scanRoster(row dbutil.Scannable) (*Roster, error) {
	var r Roster
	var start, end, created int64
	err := row.Scan(&r.ID, &r.Room, &r.Name, &start, &r.Zone, &r.RRule, &end, &r.CreatedBy, &created)
	if err != nil {
		return nil, err
	}
	r.Start, r.End, r.CreatedAt = fromMS(start), fromMS(end), fromMS(created)
	return &r, nil
}

// Create stores r with its first members, in order, and sets r.ID.
func (t Rosters) Create(ctx context.Context, r *Roster, members []id.UserID) error {
	res, err := t.db.Exec(ctx,
		"INSERT INTO rosters (room_id, name, starts_at, zone, rrule, ends_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
		r.Room, r.Name, ms(r.Start), r.Zone, r.RRule, ms(r.End), r.CreatedBy, ms(r.CreatedAt))
	if err != nil {
		return fmt.Errorf("create roster: %w", err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("create roster: %w", err)
	}
	for _, u := range members {
		if err := t.AddMember(ctx, r.ID, u, r.CreatedAt); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the roster called name in room.
func (t Rosters) Get(ctx context.Context, room id.RoomID, name string) (*Roster, bool, error) {
	return t.one(ctx, "SELECT "+rosterColumns+" FROM rosters WHERE room_id=$1 AND name=$2", room, name)
}

// ByID returns a roster by its ID.
func (t Rosters) ByID(ctx context.Context, rosterID int64) (*Roster, bool, error) {
	return t.one(ctx, "SELECT "+rosterColumns+" FROM rosters WHERE id=$1", rosterID)
}

func (t Rosters) one(ctx context.Context, query string, args ...any) (*Roster, bool, error) {
	return queryOne(ctx, t.db, scanRoster, "roster", query, args...)
}

// InRoom lists room's rosters by name.
func (t Rosters) InRoom(ctx context.Context, room id.RoomID) ([]*Roster, error) {
	return t.list(ctx, "SELECT "+rosterColumns+" FROM rosters WHERE room_id=$1 ORDER BY name", room)
}

// OfUser lists the rosters user is a member of now, in any room.
func (t Rosters) OfUser(ctx context.Context, user id.UserID) ([]*Roster, error) {
	return t.list(ctx, "SELECT "+rosterColumns+` FROM rosters WHERE id IN
		(SELECT roster_id FROM roster_members WHERE user_id=$1 AND removed_at=0) ORDER BY room_id, name`, user)
}

func (t Rosters) list(ctx context.Context, query string, args ...any) ([]*Roster, error) {
	return queryList(ctx, t.db, scanRoster, "rosters", query, args...)
}

// Delete removes a roster with everything about it.
func (t Rosters) Delete(ctx context.Context, rosterID int64) error {
	if _, err := t.db.Exec(ctx, "DELETE FROM rosters WHERE id=$1", rosterID); err != nil {
		return fmt.Errorf("delete roster: %w", err)
	}
	return nil
}

// AddMember puts user at the end of the rotation from at on.
func (t Rosters) AddMember(ctx context.Context, rosterID int64, user id.UserID, at time.Time) error {
	_, err := t.db.Exec(ctx, "INSERT INTO roster_members (roster_id, user_id, added_at) VALUES ($1, $2, $3)",
		rosterID, user, ms(at))
	if err != nil {
		return fmt.Errorf("add roster member: %w", err)
	}
	return nil
}

// RemoveMember takes user out of the rotation from at on, and reports
// whether they were in it.
func (t Rosters) RemoveMember(ctx context.Context, rosterID int64, user id.UserID, at time.Time) (bool, error) {
	res, err := t.db.Exec(ctx, "UPDATE roster_members SET removed_at=$3 WHERE roster_id=$1 AND user_id=$2 AND removed_at=0",
		rosterID, user, ms(at))
	if err != nil {
		return false, fmt.Errorf("remove roster member: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Skip records that the turn starting at turn does not take place; false if
// it was skipped already.
func (t Rosters) Skip(ctx context.Context, rosterID int64, turn time.Time) (bool, error) {
	res, err := t.db.Exec(ctx, "INSERT INTO roster_skips (roster_id, turn_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
		rosterID, ms(turn))
	if err != nil {
		return false, fmt.Errorf("skip turn: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// AddAway records an absence.
func (t Rosters) AddAway(ctx context.Context, rosterID int64, a Away) error {
	_, err := t.db.Exec(ctx, "INSERT INTO roster_aways (roster_id, user_id, from_at, to_at) VALUES ($1, $2, $3, $4)",
		rosterID, a.User, ms(a.From), ms(a.To))
	if err != nil {
		return fmt.Errorf("record absence: %w", err)
	}
	return nil
}

// Assign gives the turn starting at turn to user, whoever the rotation
// chose; swapID says which swap did it.
func (t Rosters) Assign(ctx context.Context, rosterID int64, turn time.Time, user id.UserID, swapID int64) error {
	_, err := t.db.Exec(ctx, `
		INSERT INTO roster_overrides (roster_id, turn_at, user_id, swap_id) VALUES ($1, $2, $3, $4)
		ON CONFLICT (roster_id, turn_at) DO UPDATE SET user_id=excluded.user_id, swap_id=excluded.swap_id`,
		rosterID, ms(turn), user, swapID)
	if err != nil {
		return fmt.Errorf("assign turn: %w", err)
	}
	return nil
}

// Schedule reads a roster's members, skips, absences and overrides.
func (t Rosters) Schedule(ctx context.Context, rosterID int64) (*Schedule, error) {
	s := &Schedule{}
	rows, err := t.db.Query(ctx, "SELECT id, user_id, added_at, removed_at FROM roster_members WHERE roster_id=$1 ORDER BY id", rosterID)
	s.Members, err = dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (RosterMember, error) {
		var m RosterMember
		var added, removed int64
		err := row.Scan(&m.Pos, &m.User, &added, &removed)
		m.Added, m.Removed = fromMS(added), fromMS(removed)
		return m, err
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read roster members: %w", err)
	}
	rows, err = t.db.Query(ctx, "SELECT user_id, from_at, to_at FROM roster_aways WHERE roster_id=$1 ORDER BY id", rosterID)
	s.Aways, err = dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (Away, error) {
		var a Away
		var from, to int64
		err := row.Scan(&a.User, &from, &to)
		a.From, a.To = fromMS(from), fromMS(to)
		return a, err
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read absences: %w", err)
	}
	rows, err = t.db.Query(ctx, "SELECT turn_at FROM roster_skips WHERE roster_id=$1", rosterID)
	s.Skips, err = dbutil.RowIterAsMap(dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[int64], err),
		func(turn int64) (int64, bool) { return turn, true })
	if err != nil {
		return nil, fmt.Errorf("read skipped turns: %w", err)
	}
	rows, err = t.db.Query(ctx, "SELECT turn_at, user_id FROM roster_overrides WHERE roster_id=$1", rosterID)
	s.Overrides, err = dbutil.RowIterAsMap(dbutil.NewRowIterWithError(rows, scanOverride, err),
		func(o override) (int64, id.UserID) { return o.turn, o.user })
	if err != nil {
		return nil, fmt.Errorf("read swapped turns: %w", err)
	}
	return s, nil
}

type override struct {
	turn int64
	user id.UserID
}

func scanOverride(row dbutil.Scannable) (override, error) {
	var o override
	err := row.Scan(&o.turn, &o.user)
	return o, err
}

// Swap statuses.
const (
	SwapPending   = "pending"
	SwapAccepted  = "accepted"
	SwapDeclined  = "declined"
	SwapCancelled = "cancelled"
)

// Swap is a request by one member to exchange turns with another.
type Swap struct {
	ID            int64
	Room          id.RoomID
	Number        int
	RosterID      int64
	Requester     id.UserID
	Target        id.UserID
	RequesterTurn time.Time // the turn the target is asked to take
	TargetTurn    time.Time // the target's turn the requester takes instead
	Status        string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	DecidedAt     time.Time
}

// Swaps is the swap requests table.
type Swaps struct{ db *dbutil.Database }

// Swaps returns the swap requests table.
func (s *Store) Swaps() Swaps { return Swaps{s.DB} }

const swapColumns = `id, room_id, number, roster_id, requester, target, requester_turn, target_turn,
	status, created_at, expires_at, decided_at`

func scanSwap(row dbutil.Scannable) (*Swap, error) {
	var s Swap
	var rt, tt, created, expires, decided int64
	err := row.Scan(&s.ID, &s.Room, &s.Number, &s.RosterID, &s.Requester, &s.Target, &rt, &tt,
		&s.Status, &created, &expires, &decided)
	if err != nil {
		return nil, err
	}
	s.RequesterTurn, s.TargetTurn = fromMS(rt), fromMS(tt)
	s.CreatedAt, s.ExpiresAt, s.DecidedAt = fromMS(created), fromMS(expires), fromMS(decided)
	return &s, nil
}

// Create stores a pending request, numbering it in its room, and sets its
// ID and Number.
func (t Swaps) Create(ctx context.Context, s *Swap) error {
	err := t.db.QueryRow(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM swaps WHERE room_id=$1", s.Room).Scan(&s.Number)
	if err != nil {
		return fmt.Errorf("number swap: %w", err)
	}
	s.Status = SwapPending
	res, err := t.db.Exec(ctx, `INSERT INTO swaps (room_id, number, roster_id, requester, target, requester_turn,
		target_turn, status, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		s.Room, s.Number, s.RosterID, s.Requester, s.Target, ms(s.RequesterTurn), ms(s.TargetTurn),
		s.Status, ms(s.CreatedAt), ms(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create swap: %w", err)
	}
	s.ID, err = res.LastInsertId()
	return err
}

// RequestedSince counts the swaps requester asked for in room since since.
func (t Swaps) RequestedSince(ctx context.Context, room id.RoomID, requester id.UserID, since time.Time) (int, error) {
	var n int
	err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM swaps WHERE room_id=$1 AND requester=$2 AND created_at>=$3", room, requester, ms(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count swaps: %w", err)
	}
	return n, nil
}

// Get returns a swap by its ID.
func (t Swaps) Get(ctx context.Context, swapID int64) (*Swap, bool, error) {
	return t.one(ctx, "SELECT "+swapColumns+" FROM swaps WHERE id=$1", swapID)
}

// ByNumber returns swap number n of room.
func (t Swaps) ByNumber(ctx context.Context, room id.RoomID, n int) (*Swap, bool, error) {
	return t.one(ctx, "SELECT "+swapColumns+" FROM swaps WHERE room_id=$1 AND number=$2", room, n)
}

func (t Swaps) one(ctx context.Context, query string, args ...any) (*Swap, bool, error) {
	return queryOne(ctx, t.db, scanSwap, "swap", query, args...)
}

// ForTarget lists the swaps numbered n, in any room, that ask target.
func (t Swaps) ForTarget(ctx context.Context, target id.UserID, n int) ([]*Swap, error) {
	rows, err := t.db.Query(ctx, "SELECT "+swapColumns+" FROM swaps WHERE target=$1 AND number=$2 ORDER BY id", target, n)
	list, err := dbutil.NewRowIterWithError(rows, scanSwap, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("list swaps: %w", err)
	}
	return list, nil
}

// Decide moves a pending swap to status; false if it was not pending.
func (t Swaps) Decide(ctx context.Context, swapID int64, status string, at time.Time) (bool, error) {
	res, err := t.db.Exec(ctx, "UPDATE swaps SET status=$2, decided_at=$3 WHERE id=$1 AND status=$4",
		swapID, status, ms(at), SwapPending)
	if err != nil {
		return false, fmt.Errorf("decide swap: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// CancelInvolving cancels the pending swaps of a roster that involve user.
func (t Swaps) CancelInvolving(ctx context.Context, rosterID int64, user id.UserID, at time.Time) error {
	_, err := t.db.Exec(ctx, "UPDATE swaps SET status=$3, decided_at=$4 WHERE roster_id=$1 AND status=$5 AND (requester=$2 OR target=$2)",
		rosterID, user, SwapCancelled, ms(at), SwapPending)
	if err != nil {
		return fmt.Errorf("cancel swaps: %w", err)
	}
	return nil
}
