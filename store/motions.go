package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// MotionStatus is where a motion stands, as in quorum.motion's status:
// awaiting a second, open, withdrawn, or one of the outcomes of its vote.
type MotionStatus string

// Motion statuses.
const (
	MotionAwaitingSecond MotionStatus = "awaiting_second"
	MotionOpen           MotionStatus = "open"
	MotionWithdrawn      MotionStatus = "withdrawn"
	MotionCarried        MotionStatus = "carried"
	MotionFailed         MotionStatus = "failed"
	MotionNoQuorum       MotionStatus = "no_quorum"
)

// Motion is a proposal put to a room's vote.
type Motion struct {
	ID          int64
	Room        id.RoomID
	Number      int
	Kind        string
	Payload     string // JSON owned by the feature of Kind
	Proposer    id.UserID
	Text        string
	Threshold   string
	Quorum      string
	QuorumCount int
	Secret      bool
	Status      MotionStatus
	Seconder    id.UserID
	CreatedAt   time.Time
	OpenedAt    time.Time
	ClosesAt    time.Time
	Duration    time.Duration
	ClosedAt    time.Time
	Yes, No     int
	Abstain     int
	// BallotCode names a secret ballot across rooms (`!vote K3P7 y`).
	BallotCode string
	// Turnout is how many have voted on an open secret ballot, whose
	// counts are sealed in its box until it closes (Yes, No and Abstain stay
	// 0 until then).
	Turnout int
	// Reactions says whether reactions on the notice are votes; Poll,
	// whether the motion opened an MSC3381 poll whose answers are votes.
	// Both are fixed at creation; `!vote` always counts.
	Reactions, Poll bool
	// SettlesAt is when the motion closes early, its whole electorate having
	// voted (zero while someone has not): a settle time after the votes'
	// own times, not after the bot handled them, so that it is the same
	// after a restart; acts dated from then on are refused.
	SettlesAt time.Time
}

// Voted is how many have voted, abstentions included.
func (m *Motion) Voted() int { return m.Yes + m.No + m.Abstain + m.Turnout }

// Motions is the motions table with its electorates and votes.
type Motions struct {
	db *dbutil.Database
	st *Store
}

// Motions returns the motions table.
func (s *Store) Motions() Motions { return Motions{s.DB, s} }

const motionColumns = `id, room_id, number, kind, payload, proposer, text, threshold, quorum, quorum_count,
	secret, status, seconder, created_at, opened_at, closes_at, duration, closed_at, yes, no, abstain, ballot_code,
	reactions, poll, settles_at, COALESCE((SELECT turnout FROM ballot_rolls WHERE ballot_rolls.motion_id=motions.id), 0)`

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

func scanMotion(row dbutil.Scannable) (*Motion, error) {
	var m Motion
	var created, opened, closes, duration, closed, settles int64
	err := row.Scan(&m.ID, &m.Room, &m.Number, &m.Kind, &m.Payload, &m.Proposer, &m.Text, &m.Threshold,
		&m.Quorum, &m.QuorumCount, &m.Secret, &m.Status, &m.Seconder, &created, &opened, &closes, &duration,
		&closed, &m.Yes, &m.No, &m.Abstain, &m.BallotCode, &m.Reactions, &m.Poll, &settles, &m.Turnout)
	if err != nil {
		return nil, err
	}
	m.CreatedAt, m.OpenedAt, m.ClosesAt, m.ClosedAt = fromMS(created), fromMS(opened), fromMS(closes), fromMS(closed)
	m.SettlesAt = fromMS(settles)
	m.Duration = time.Duration(duration) * time.Millisecond
	return &m, nil
}

// Create stores a new motion, numbering it after the room's last motion or
// poll, and returns it with its ID and number.
func (t Motions) Create(ctx context.Context, m *Motion) error {
	err := t.db.QueryRow(ctx, `
		INSERT INTO motions (room_id, number, kind, payload, proposer, text, threshold, quorum, quorum_count,
			secret, status, created_at, opened_at, closes_at, duration, reactions, poll)
		VALUES ($1, `+nextNumber+`, $2, $3, $4, $5, $6, $7, $8,
			$9, $10, $11, $12, $13, $14, $15, $16)
		RETURNING id, number`,
		m.Room, m.Kind, m.Payload, m.Proposer, m.Text, m.Threshold, m.Quorum, m.QuorumCount,
		m.Secret, m.Status, ms(m.CreatedAt), ms(m.OpenedAt), ms(m.ClosesAt), m.Duration.Milliseconds(), m.Reactions, m.Poll).
		Scan(&m.ID, &m.Number)
	if err != nil {
		return fmt.Errorf("create motion: %w", err)
	}
	return nil
}

// ByNumber finds motion #number of room.
func (t Motions) ByNumber(ctx context.Context, room id.RoomID, number int) (*Motion, bool, error) {
	return t.one(ctx, "WHERE room_id=$1 AND number=$2", room, number)
}

// Get finds a motion by ID.
func (t Motions) Get(ctx context.Context, motionID int64) (*Motion, bool, error) {
	return t.one(ctx, "WHERE id=$1", motionID)
}

func (t Motions) one(ctx context.Context, where string, args ...any) (*Motion, bool, error) {
	return queryOne(ctx, t.db, scanMotion, "motion", "SELECT "+motionColumns+" FROM motions "+where, args...)
}

func (t Motions) list(ctx context.Context, query string, args ...any) ([]*Motion, error) {
	return queryList(ctx, t.db, scanMotion, "motions", "SELECT "+motionColumns+" FROM motions "+query, args...)
}

// Pending lists the room's motions that are open or awaiting a second.
func (t Motions) Pending(ctx context.Context, room id.RoomID) ([]*Motion, error) {
	return t.list(ctx, "WHERE room_id=$1 AND status IN ($2, $3) ORDER BY number", room, MotionOpen, MotionAwaitingSecond)
}

// DueToClose lists open motions whose deadline, or settle time, is at or
// before now.
func (t Motions) DueToClose(ctx context.Context, now time.Time) ([]*Motion, error) {
	return t.list(ctx, "WHERE status=$1 AND (closes_at <= $2 OR settles_at BETWEEN 1 AND $2) ORDER BY closes_at, id", MotionOpen, now.UnixMilli())
}

// NextClose returns the earliest deadline or settle time of an open motion.
func (t Motions) NextClose(ctx context.Context) (time.Time, error) {
	return t.nextTime(ctx, "SELECT MIN(CASE WHEN settles_at BETWEEN 1 AND closes_at THEN settles_at ELSE closes_at END) FROM motions WHERE status=$1", MotionOpen)
}

// Settle sets when an open motion closes early (zero: it does not, someone
// has not voted).
func (t Motions) Settle(ctx context.Context, motionID int64, at time.Time) error {
	if _, err := t.db.Exec(ctx, "UPDATE motions SET settles_at=$2 WHERE id=$1", motionID, ms(at)); err != nil {
		return fmt.Errorf("settle motion: %w", err)
	}
	return nil
}

func (t Motions) nextTime(ctx context.Context, query string, args ...any) (time.Time, error) {
	var next sql.NullInt64
	if err := t.db.QueryRow(ctx, query, args...).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("read schedule: %w", err)
	}
	return fromMS(next.Int64), nil
}

// Open starts the vote: records the electorate and the deadline, and for a
// secret ballot makes its box and ballot code (m.BallotCode).
func (t Motions) Open(ctx context.Context, m *Motion, electorate []id.UserID) error {
	_, err := t.db.Exec(ctx, `
		UPDATE motions SET status=$2, seconder=$3, opened_at=$4, closes_at=$5, quorum_count=$6 WHERE id=$1`,
		m.ID, MotionOpen, m.Seconder, ms(m.OpenedAt), ms(m.ClosesAt), m.QuorumCount)
	if err != nil {
		return fmt.Errorf("open motion: %w", err)
	}
	for _, u := range electorate {
		if _, err := t.db.Exec(ctx, "INSERT INTO electorate (motion_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", m.ID, u); err != nil {
			return fmt.Errorf("record electorate: %w", err)
		}
	}
	m.Status = MotionOpen
	if m.Secret {
		code, err := t.st.Secret().open(ctx, m.ID)
		if err != nil {
			return err
		}
		m.BallotCode = code
	}
	return nil
}

// Close records a motion's end with its final tally. A secret ballot's box
// is destroyed (read its receipts first).
func (t Motions) Close(ctx context.Context, motionID int64, status MotionStatus, at time.Time, yes, no, abstain int) error {
	_, err := t.db.Exec(ctx, `UPDATE motions SET status=$2, closed_at=$3, yes=$4, no=$5, abstain=$6 WHERE id=$1`,
		motionID, status, at.UnixMilli(), yes, no, abstain)
	if err != nil {
		return fmt.Errorf("close motion: %w", err)
	}
	return t.st.Secret().destroy(ctx, motionID)
}

// SetPayload replaces the feature data of a motion.
func (t Motions) SetPayload(ctx context.Context, motionID int64, payload string) error {
	_, err := t.db.Exec(ctx, "UPDATE motions SET payload=$2 WHERE id=$1", motionID, payload)
	if err != nil {
		return fmt.Errorf("update motion: %w", err)
	}
	return nil
}

// SecretSince counts the secret ballots proposer opened in room since since.
func (t Motions) SecretSince(ctx context.Context, room id.RoomID, proposer id.UserID, since time.Time) (int, error) {
	var n int
	err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM motions WHERE room_id=$1 AND proposer=$2 AND secret AND created_at>=$3", room, proposer, ms(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count secret ballots: %w", err)
	}
	return n, nil
}

// InElectorate says whether user may vote on a motion.
func (t Motions) InElectorate(ctx context.Context, motionID int64, user id.UserID) (bool, error) {
	var n int
	err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM electorate WHERE motion_id=$1 AND user_id=$2", motionID, user).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check electorate: %w", err)
	}
	return n > 0, nil
}

// ElectorateSize counts who may vote.
func (t Motions) ElectorateSize(ctx context.Context, motionID int64) (int, error) {
	var n int
	err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM electorate WHERE motion_id=$1", motionID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count electorate: %w", err)
	}
	return n, nil
}

// TellOnce records that user was told why a vote did not count and reports
// whether this is the first time for this motion.
func (t Motions) TellOnce(ctx context.Context, motionID int64, user id.UserID) (bool, error) {
	res, err := t.db.Exec(ctx, "INSERT INTO vote_notices (motion_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", motionID, user)
	if err != nil {
		return false, fmt.Errorf("record notice: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
