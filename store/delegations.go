package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Delegation statuses, as they appear in quorum.delegation's status.
const (
	DelegationActive   = "active"
	DelegationRecalled = "recalled"
	DelegationLapsed   = "lapsed"
)

// Delegation is a mandate the assembly gave a member by electing them.
type Delegation struct {
	ID       int64
	Room     id.RoomID
	Number   int
	User     id.UserID
	Role     string
	Mandate  string
	Motion   int64 // the election
	Status   string
	Since    time.Time
	TermEnds time.Time
	EndedAt  time.Time
	EndedBy  int64 // the recall motion, if recalled
	// PowerLevel is the room power level the role confers (0: none);
	// PowerBase the member's level before their mandates raised it.
	PowerLevel   int
	PowerBase    int
	WeekReminded time.Time
	DayReminded  time.Time
	// ElectionNumber and RecallNumber are the room's numbers of Motion and
	// EndedBy (0 if none), for showing.
	ElectionNumber int
	RecallNumber   int
}

// DelegationEvent is one entry of a mandate's history.
type DelegationEvent struct {
	Delegation int64
	At         time.Time
	Kind       string
	User       id.UserID
	Motion     int64
	Outcome    string
	Text       string
	// MotionNumber is the room's number of Motion (0 if none).
	MotionNumber int
}

// Delegations is the delegations table with the mandates' history.
type Delegations struct{ db *dbutil.Database }

// Delegations returns the delegations table.
func (s *Store) Delegations() Delegations { return Delegations{s.DB} }

const delegationSelect = `
	SELECT d.id, d.room_id, d.number, d.user_id, d.role, d.mandate, d.motion_id, d.status, d.started_at,
		d.term_ends, d.ended_at, d.ended_by, d.power_level, d.power_base, d.week_reminded_at, d.day_reminded_at,
		COALESCE(em.number, 0), COALESCE(rm.number, 0)
	FROM delegations d
	LEFT JOIN motions em ON em.id = d.motion_id
	LEFT JOIN motions rm ON rm.id = d.ended_by `

func scanDelegation(row dbutil.Scannable) (*Delegation, error) {
	var d Delegation
	var since, ends, ended, week, day int64
	err := row.Scan(&d.ID, &d.Room, &d.Number, &d.User, &d.Role, &d.Mandate, &d.Motion, &d.Status, &since,
		&ends, &ended, &d.EndedBy, &d.PowerLevel, &d.PowerBase, &week, &day, &d.ElectionNumber, &d.RecallNumber)
	if err != nil {
		return nil, err
	}
	d.Since, d.TermEnds, d.EndedAt = fromMS(since), fromMS(ends), fromMS(ended)
	d.WeekReminded, d.DayReminded = fromMS(week), fromMS(day)
	return &d, nil
}

// Create stores a new active delegation, numbering it after the room's last
// one, and sets its ID and number.
func (t Delegations) Create(ctx context.Context, d *Delegation) error {
	d.Status = DelegationActive
	err := t.db.QueryRow(ctx, `
		INSERT INTO delegations (room_id, number, user_id, role, mandate, motion_id, status, started_at, term_ends,
			power_level, power_base, week_reminded_at, day_reminded_at)
		VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 FROM delegations WHERE room_id=$1), $2, $3, $4, $5, $6, $7, $8,
			$9, $10, $11, $12)
		RETURNING id, number`,
		d.Room, d.User, d.Role, d.Mandate, d.Motion, d.Status, ms(d.Since), ms(d.TermEnds),
		d.PowerLevel, d.PowerBase, ms(d.WeekReminded), ms(d.DayReminded)).Scan(&d.ID, &d.Number)
	if err != nil {
		return fmt.Errorf("create delegation: %w", err)
	}
	return nil
}

// Get finds a delegation by ID.
func (t Delegations) Get(ctx context.Context, delegationID int64) (*Delegation, bool, error) {
	return t.one(ctx, "WHERE d.id=$1", delegationID)
}

// ByNumber finds delegation #number of room.
func (t Delegations) ByNumber(ctx context.Context, room id.RoomID, number int) (*Delegation, bool, error) {
	return t.one(ctx, "WHERE d.room_id=$1 AND d.number=$2", room, number)
}

func (t Delegations) one(ctx context.Context, where string, args ...any) (*Delegation, bool, error) {
	return queryOne(ctx, t.db, scanDelegation, "delegation", delegationSelect+where, args...)
}

func (t Delegations) list(ctx context.Context, where string, args ...any) ([]*Delegation, error) {
	return queryList(ctx, t.db, scanDelegation, "delegations", delegationSelect+where, args...)
}

// Active lists room's active delegations by role, then number.
func (t Delegations) Active(ctx context.Context, room id.RoomID) ([]*Delegation, error) {
	return t.list(ctx, "WHERE d.room_id=$1 AND d.status=$2 ORDER BY d.role, d.number", room, DelegationActive)
}

// AllActive lists the active delegations of every room (for the schedule).
func (t Delegations) AllActive(ctx context.Context) ([]*Delegation, error) {
	return t.list(ctx, "WHERE d.status=$1 ORDER BY d.term_ends, d.id", DelegationActive)
}

// OfUser lists every delegation user held in room, newest first.
func (t Delegations) OfUser(ctx context.Context, room id.RoomID, user id.UserID) ([]*Delegation, error) {
	return t.list(ctx, "WHERE d.room_id=$1 AND d.user_id=$2 ORDER BY d.number DESC", room, user)
}

// OfRole lists every delegation of role in room, oldest first.
func (t Delegations) OfRole(ctx context.Context, room id.RoomID, role string) ([]*Delegation, error) {
	return t.list(ctx, "WHERE d.room_id=$1 AND d.role=$2 ORDER BY d.number", room, role)
}

// End ends an active delegation with status at at (byMotion: the recall,
// or 0). It reports false, changing nothing, if it was not active.
func (t Delegations) End(ctx context.Context, delegationID int64, status string, at time.Time, byMotion int64) (bool, error) {
	res, err := t.db.Exec(ctx, "UPDATE delegations SET status=$2, ended_at=$3, ended_by=$4 WHERE id=$1 AND status=$5",
		delegationID, status, ms(at), byMotion, DelegationActive)
	if err != nil {
		return false, fmt.Errorf("end delegation: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Reminded records that the reminder a week (week) or a day before the
// term's end is done. It reports false if it was done before.
func (t Delegations) Reminded(ctx context.Context, delegationID int64, week bool, at time.Time) (bool, error) {
	col := "day_reminded_at"
	if week {
		col = "week_reminded_at"
	}
	res, err := t.db.Exec(ctx, "UPDATE delegations SET "+col+"=$2 WHERE id=$1 AND "+col+"=0", delegationID, ms(at))
	if err != nil {
		return false, fmt.Errorf("record reminder: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// AddEvent appends an entry to a mandate's history.
func (t Delegations) AddEvent(ctx context.Context, e DelegationEvent) error {
	_, err := t.db.Exec(ctx, `
		INSERT INTO delegation_events (delegation_id, at, kind, user_id, motion_id, outcome, text)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		e.Delegation, ms(e.At), e.Kind, e.User, e.Motion, e.Outcome, e.Text)
	if err != nil {
		return fmt.Errorf("record delegation history: %w", err)
	}
	return nil
}

func scanDelegationEvent(row dbutil.Scannable) (*DelegationEvent, error) {
	var e DelegationEvent
	var at int64
	err := row.Scan(&e.Delegation, &at, &e.Kind, &e.User, &e.Motion, &e.Outcome, &e.Text, &e.MotionNumber)
	if err != nil {
		return nil, err
	}
	e.At = fromMS(at)
	return &e, nil
}

// History lists a mandate's history, oldest first.
func (t Delegations) History(ctx context.Context, delegationID int64) ([]*DelegationEvent, error) {
	rows, err := t.db.Query(ctx, `
		SELECT e.delegation_id, e.at, e.kind, e.user_id, e.motion_id, e.outcome, e.text, COALESCE(m.number, 0)
		FROM delegation_events e LEFT JOIN motions m ON m.id = e.motion_id
		WHERE e.delegation_id=$1 ORDER BY e.id`, delegationID)
	list, err := dbutil.NewRowIterWithError(rows, scanDelegationEvent, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read delegation history: %w", err)
	}
	return list, nil
}

// PendingMotion returns the number of a motion of kind in room, open or
// awaiting a second, whose payload has the given values at the given
// top-level keys (0 if none): the recall already under way against a
// delegation, say.
func (t Delegations) PendingMotion(ctx context.Context, room id.RoomID, kind string, match map[string]any) (int, error) {
	query := "SELECT number FROM motions WHERE room_id=$1 AND kind=$2 AND status IN ($3, $4)"
	args := []any{room, kind, MotionOpen, MotionAwaitingSecond}
	for _, key := range slices.Sorted(maps.Keys(match)) {
		query += fmt.Sprintf(" AND json_extract(payload, $%d)=$%d", len(args)+1, len(args)+2)
		args = append(args, "$."+key, match[key])
	}
	var number int
	err := t.db.QueryRow(ctx, query+" ORDER BY number LIMIT 1", args...).Scan(&number)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("find pending %s: %w", kind, err)
	}
	return number, nil
}
