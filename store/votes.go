package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Act is one act of voting: a reaction on a motion's notice, an answer to
// its poll or a !vote. Its Choice is yes, no or abstain, or NoChoice.
type Act struct {
	Motion int64
	Voter  id.UserID
	Choice string
	Event  id.EventID
	Time   time.Time
}

// NoChoice is the choice of an act that withdraws its voter's vote: a poll
// answer that selected nothing the poll offers (MSC3381). It stands like
// any act, so the voter has no vote until a later act of theirs.
const NoChoice = "none"

// Votes records acts of voting and keeps each motion's standing tally.
//
// A voter's vote is their latest act that still stands (was not redacted),
// ordered by the event's timestamp, then by arrival. Cast and Withdraw move
// the motion's counters by the act's part in its voter's vote, in the same
// transaction; Recount derives the tally from the acts alone.
type Votes struct {
	db  *dbutil.Database
	hot *prepared
}

// Votes returns the votes table.
func (s *Store) Votes() Votes { return Votes{s.DB, s.hot} }

// Cast records an act and reports whether it was new: an act whose event
// was recorded before is a redelivery and changes nothing. A new act becomes
// the voter's standing vote unless a later act of theirs stands (an act can
// arrive late, during a catch-up).
func (v Votes) Cast(ctx context.Context, a Act) (bool, error) {
	switch a.Choice {
	case "yes", "no", "abstain", NoChoice:
	default:
		return false, fmt.Errorf("unknown choice %q", a.Choice)
	}
	res, err := v.hot.exec(ctx, `
		INSERT INTO vote_acts (motion_id, voter, choice, event_id, ts) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (event_id) DO NOTHING`, a.Motion, string(a.Voter), a.Choice, string(a.Event), a.Time.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("record vote: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	act, err := res.LastInsertId()
	if err != nil {
		return false, err
	}
	return true, v.restand(ctx, a, act, 1)
}

// Withdraw marks the act from event as withdrawn (its event was redacted).
// Withdrawing an act twice, or an event that was no act, changes nothing.
func (v Votes) Withdraw(ctx context.Context, event id.EventID) error {
	a := Act{Event: event}
	var act, ts int64
	err := v.db.QueryRow(ctx, "SELECT id, motion_id, voter, choice, ts FROM vote_acts WHERE event_id=$1 AND withdrawn=0", event).
		Scan(&act, &a.Motion, &a.Voter, &a.Choice, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("find vote: %w", err)
	}
	a.Time = time.UnixMilli(ts)
	if err := v.restand(ctx, a, act, -1); err != nil {
		return err
	}
	if _, err := v.db.Exec(ctx, "UPDATE vote_acts SET withdrawn=1 WHERE id=$1", act); err != nil {
		return fmt.Errorf("withdraw vote: %w", err)
	}
	return nil
}

// restand moves a motion's counters by one act's part in its voter's vote.
// The act is the vote if it is later than the voter's latest other act that
// stands; then it moved the vote from that act's choice b (or from no vote)
// to its own. Sign 1 adds that move (the act was just recorded), sign -1
// takes it back (the act is about to be withdrawn). An act that is not the
// vote moves nothing: b is then the empty string, and d zero. NoChoice, as
// the act's choice or as b, counts in none of the three columns: it is the
// same move as from or to no vote.
//
// Finding b inside the UPDATE, rather than reading the voter's standing
// vote first, is what lets 100,000 votes be ingested in under a second: a
// query through database/sql costs much more than an index lookup.
func (v Votes) restand(ctx context.Context, a Act, act int64, sign int64) error {
	_, err := v.hot.exec(ctx, `
		UPDATE motions SET (yes, no, abstain) = (SELECT
			yes + d*((?5='yes') - (b IS 'yes')),
			no + d*((?5='no') - (b IS 'no')),
			abstain + d*((?5='abstain') - (b IS 'abstain'))
			FROM (SELECT b, ?6*(b IS NOT '') AS d FROM (SELECT (
				SELECT CASE WHEN ts > ?4 OR (ts = ?4 AND id > ?3) THEN '' ELSE choice END FROM vote_acts
				WHERE motion_id=?1 AND voter=?2 AND withdrawn=0 AND id<>?3
				ORDER BY ts DESC, id DESC LIMIT 1) AS b)))
		WHERE id=?1`, a.Motion, string(a.Voter), act, a.Time.UnixMilli(), a.Choice, sign)
	if err != nil {
		return fmt.Errorf("update tally: %w", err)
	}
	return nil
}

// Recount derives a motion's tally from its acts alone, for the result and
// for checking the standing counters.
func (v Votes) Recount(ctx context.Context, motionID int64) (yes, no, abstain int, err error) {
	rows, err := v.db.Query(ctx, `
		SELECT choice, COUNT(*) FROM vote_acts a
		WHERE motion_id=$1 AND withdrawn=0 AND NOT EXISTS (
			SELECT 1 FROM vote_acts b WHERE b.motion_id=a.motion_id AND b.voter=a.voter AND b.withdrawn=0
			AND (b.ts > a.ts OR (b.ts = a.ts AND b.id > a.id)))
		GROUP BY choice`, motionID)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("recount: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var choice string
		var n int
		if err := rows.Scan(&choice, &n); err != nil {
			return 0, 0, 0, fmt.Errorf("recount: %w", err)
		}
		switch choice {
		case "yes":
			yes = n
		case "no":
			no = n
		case "abstain":
			abstain = n
		}
	}
	return yes, no, abstain, rows.Err()
}

// Latest returns the time of the latest act on a motion that stands (was
// not withdrawn): the latest standing vote's, zero if none.
func (v Votes) Latest(ctx context.Context, motionID int64) (time.Time, error) {
	var ts sql.NullInt64
	if err := v.db.QueryRow(ctx, "SELECT MAX(ts) FROM vote_acts WHERE motion_id=$1 AND withdrawn=0", motionID).Scan(&ts); err != nil {
		return time.Time{}, fmt.Errorf("latest vote: %w", err)
	}
	if !ts.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(ts.Int64), nil
}

// Act returns the act of voting recorded for event, if any.
func (v Votes) Act(ctx context.Context, event id.EventID) (Act, bool, error) {
	a := Act{Event: event}
	var ts int64
	err := v.db.QueryRow(ctx, "SELECT motion_id, voter, choice, ts FROM vote_acts WHERE event_id=$1", event).
		Scan(&a.Motion, &a.Voter, &a.Choice, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	} else if err != nil {
		return a, false, fmt.Errorf("find vote: %w", err)
	}
	a.Time = time.UnixMilli(ts)
	return a, true, nil
}
