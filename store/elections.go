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
)

// KindContested is the motion kind of a contested election (ranked ballots
// counted by STV).
const KindContested = "stv"

// Statuses of a contested election, as in quorum.election's status.
const (
	ElectionNominations MotionStatus = "nominations"
	ElectionVoting      MotionStatus = "voting"
	ElectionDecided     MotionStatus = "decided"
	ElectionCancelled   MotionStatus = "cancelled"
)

// Candidate is a member nominated in a contested election.
type Candidate struct {
	User        id.UserID
	NominatedBy id.UserID
	NominatedAt time.Time
	// AcceptedAt is zero until they accept; nobody is on the ballot
	// without accepting.
	AcceptedAt time.Time
}

// Ranking is a voter's latest ranking, the most preferred first.
type Ranking struct {
	Voter    id.UserID
	Ranking  []id.UserID
	RankedAt time.Time
}

// Elections are the contested elections: motions of kind KindContested,
// their candidates and rankings.
type Elections struct {
	db *dbutil.Database
	st *Store
}

// Elections returns the contested elections.
func (s *Store) Elections() Elections { return Elections{s.DB, s} }

// SetPhase records a change of status, the deadline of the phase and,
// when it opens the vote, its opening time.
func (t Elections) SetPhase(ctx context.Context, m *Motion) error {
	_, err := t.db.Exec(ctx, `UPDATE motions SET status=$2, opened_at=$3, closes_at=$4, closed_at=$5, quorum_count=$6, payload=$7
		WHERE id=$1 AND kind=$8`,
		m.ID, m.Status, ms(m.OpenedAt), ms(m.ClosesAt), ms(m.ClosedAt), m.QuorumCount, m.Payload, KindContested)
	if err != nil {
		return fmt.Errorf("update election: %w", err)
	}
	return nil
}

// SetElectorate records who may rank: the room's members when voting opens.
func (t Elections) SetElectorate(ctx context.Context, motionID int64, electorate []id.UserID) error {
	for _, u := range electorate {
		if _, err := t.db.Exec(ctx, "INSERT INTO electorate (motion_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", motionID, u); err != nil {
			return fmt.Errorf("record electorate: %w", err)
		}
	}
	return nil
}

// Electorate lists who may rank.
func (t Elections) Electorate(ctx context.Context, motionID int64) ([]id.UserID, error) {
	rows, err := t.db.Query(ctx, "SELECT user_id FROM electorate WHERE motion_id=$1 ORDER BY user_id", motionID)
	if err != nil {
		return nil, fmt.Errorf("read electorate: %w", err)
	}
	var out []id.UserID
	for rows.Next() {
		var u id.UserID
		if err := rows.Scan(&u); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("read electorate: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Close()
}

// Nominate records user's nomination by by and returns its ID; added is
// false if user was already nominated.
func (t Elections) Nominate(ctx context.Context, motionID int64, user, by id.UserID, at time.Time) (nomination int64, added bool, err error) {
	res, err := t.db.Exec(ctx, `INSERT INTO stv_candidates (motion_id, user_id, nominated_by, nominated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, motionID, user, by, ms(at))
	if err != nil {
		return 0, false, fmt.Errorf("nominate: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, false, nil
	}
	nomination, err = res.LastInsertId()
	if err != nil {
		return 0, false, fmt.Errorf("nominate: %w", err)
	}
	return nomination, true, nil
}

// Nomination finds a nomination by its ID: the election and the nominee.
func (t Elections) Nomination(ctx context.Context, nomination int64) (motionID int64, user id.UserID, ok bool, err error) {
	err = t.db.QueryRow(ctx, "SELECT motion_id, user_id FROM stv_candidates WHERE rowid=$1", nomination).Scan(&motionID, &user)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", false, nil
	} else if err != nil {
		return 0, "", false, fmt.Errorf("read nomination: %w", err)
	}
	return motionID, user, true, nil
}

// Accept records that user accepts their nomination; it reports false if
// they were not nominated or had already accepted.
func (t Elections) Accept(ctx context.Context, motionID int64, user id.UserID, at time.Time) (bool, error) {
	res, err := t.db.Exec(ctx, "UPDATE stv_candidates SET accepted_at=$3 WHERE motion_id=$1 AND user_id=$2 AND accepted_at=0",
		motionID, user, ms(at))
	if err != nil {
		return false, fmt.Errorf("accept nomination: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Candidates lists the nominated, in the order of their nomination.
func (t Elections) Candidates(ctx context.Context, motionID int64) ([]Candidate, error) {
	rows, err := t.db.Query(ctx, `SELECT user_id, nominated_by, nominated_at, accepted_at FROM stv_candidates
		WHERE motion_id=$1 ORDER BY nominated_at, rowid`, motionID)
	if err != nil {
		return nil, fmt.Errorf("read candidates: %w", err)
	}
	var out []Candidate
	for rows.Next() {
		var c Candidate
		var nominated, accepted int64
		if err := rows.Scan(&c.User, &c.NominatedBy, &nominated, &accepted); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("read candidates: %w", err)
		}
		c.NominatedAt, c.AcceptedAt = fromMS(nominated), fromMS(accepted)
		out = append(out, c)
	}
	return out, rows.Close()
}

// Rank records voter's ranking, replacing any earlier one; an empty
// ranking withdraws it. It reports whether the voter had ranked before.
func (t Elections) Rank(ctx context.Context, motionID int64, voter id.UserID, ranking []id.UserID, at time.Time) (bool, error) {
	var n int
	if err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM stv_rankings WHERE motion_id=$1 AND voter=$2", motionID, voter).Scan(&n); err != nil {
		return false, fmt.Errorf("read ranking: %w", err)
	}
	if len(ranking) == 0 {
		_, err := t.db.Exec(ctx, "DELETE FROM stv_rankings WHERE motion_id=$1 AND voter=$2", motionID, voter)
		if err != nil {
			return false, fmt.Errorf("withdraw ranking: %w", err)
		}
		return n > 0, nil
	}
	data, err := json.Marshal(ranking)
	if err != nil {
		return false, fmt.Errorf("encode ranking: %w", err)
	}
	_, err = t.db.Exec(ctx, `INSERT INTO stv_rankings (motion_id, voter, ranking, ranked_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (motion_id, voter) DO UPDATE SET ranking=excluded.ranking, ranked_at=excluded.ranked_at`,
		motionID, voter, string(data), ms(at))
	if err != nil {
		return false, fmt.Errorf("record ranking: %w", err)
	}
	return n > 0, nil
}

// Rankings lists the rankings that stand, by voter.
func (t Elections) Rankings(ctx context.Context, motionID int64) ([]Ranking, error) {
	rows, err := t.db.Query(ctx, "SELECT voter, ranking, ranked_at FROM stv_rankings WHERE motion_id=$1 ORDER BY voter", motionID)
	if err != nil {
		return nil, fmt.Errorf("read rankings: %w", err)
	}
	var out []Ranking
	for rows.Next() {
		var r Ranking
		var data string
		var at int64
		if err := rows.Scan(&r.Voter, &data, &at); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("read rankings: %w", err)
		}
		if err := json.Unmarshal([]byte(data), &r.Ranking); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("decode ranking: %w", err)
		}
		r.RankedAt = fromMS(at)
		out = append(out, r)
	}
	return out, rows.Close()
}

// Due lists the contested elections whose phase (nominations or voting)
// has reached its deadline, or whose settle time after everyone ranked has
// passed.
func (t Elections) Due(ctx context.Context, now time.Time) ([]*Motion, error) {
	return t.st.Motions().list(ctx, `WHERE kind=$1 AND status IN ($2, $3) AND (closes_at <= $4 OR settles_at BETWEEN 1 AND $4)
		ORDER BY closes_at, id`, KindContested, ElectionNominations, ElectionVoting, now.UnixMilli())
}

// Open lists room's contested elections still taking nominations or
// rankings, by number.
func (t Elections) Open(ctx context.Context, room id.RoomID) ([]*Motion, error) {
	return t.st.Motions().list(ctx, "WHERE room_id=$1 AND kind=$2 AND status IN ($3, $4) ORDER BY number",
		room, KindContested, ElectionNominations, ElectionVoting)
}

// NextDue returns the earliest deadline of a phase (zero if none).
func (t Elections) NextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	err := t.db.QueryRow(ctx, `SELECT MIN(CASE WHEN settles_at BETWEEN 1 AND closes_at THEN settles_at ELSE closes_at END)
		FROM motions WHERE kind=$1 AND status IN ($2, $3)`, KindContested, ElectionNominations, ElectionVoting).Scan(&next)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, fmt.Errorf("read schedule: %w", err)
	}
	return fromMS(next.Int64), nil
}

// SecretVoting lists the secret contested elections numbered n, open for
// ranking, in which voter may rank, across rooms (a secret ranking is sent
// from the voter's direct room).
func (t Elections) SecretVoting(ctx context.Context, voter id.UserID, n int) ([]*Motion, error) {
	return t.st.Motions().list(ctx, `WHERE kind=$1 AND secret=1 AND status=$2 AND number=$3
		AND id IN (SELECT motion_id FROM electorate WHERE user_id=$4) ORDER BY id`, KindContested, ElectionVoting, n, voter)
}

// NominatedIn lists the elections of room taking nominations in which user
// is nominated.
func (t Elections) NominatedIn(ctx context.Context, room id.RoomID, user id.UserID) ([]*Motion, error) {
	return t.st.Motions().list(ctx, `WHERE room_id=$1 AND kind=$2 AND status=$3
		AND id IN (SELECT motion_id FROM stv_candidates WHERE user_id=$4) ORDER BY number`, room, KindContested, ElectionNominations, user)
}

// Unnominate removes user's nomination.
func (t Elections) Unnominate(ctx context.Context, motionID int64, user id.UserID) error {
	if _, err := t.db.Exec(ctx, "DELETE FROM stv_candidates WHERE motion_id=$1 AND user_id=$2", motionID, user); err != nil {
		return fmt.Errorf("withdraw nomination: %w", err)
	}
	return nil
}
