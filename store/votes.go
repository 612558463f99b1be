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

// Act is one act of voting: a reaction on a motion's notice or a !vote.
type Act struct {
	Motion int64
	Voter  id.UserID
	Choice string
	Event  id.EventID
	Time   time.Time
}

// Votes records acts of voting and keeps each motion's standing tally.
//
// A voter's vote is their latest act that still stands (was not redacted),
// ordered by the event's timestamp, then by arrival. Every change goes
// through Cast or Withdraw, which compare the voter's standing choice before
// and after and move the motion's counters by the difference, in the same
// transaction. Recount derives the tally from the acts alone.
type Votes struct {
	db  *dbutil.Database
	hot *prepared
}

// Votes returns the votes table.
func (s *Store) Votes() Votes { return Votes{s.DB, s.hot} }

// Standing returns user's current choice on a motion ("" if none).
func (v Votes) Standing(ctx context.Context, motionID int64, voter id.UserID) (string, error) {
	var choice string
	err := v.db.QueryRow(ctx, `
		SELECT choice FROM vote_acts WHERE motion_id=$1 AND voter=$2 AND withdrawn=0
		ORDER BY ts DESC, id DESC LIMIT 1`, motionID, voter).Scan(&choice)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read standing vote: %w", err)
	}
	return choice, nil
}

// Change is how one act moved a voter's standing choice.
type Change struct {
	Motion int64
	Voter  id.UserID
	Before string
	After  string
}

// Cast records an act. An act whose event was recorded before is ignored
// (a redelivery); the returned change is then empty. The new act becomes the
// voter's standing vote unless a later act of theirs stands (an act can
// arrive late, during a catch-up).
func (v Votes) Cast(ctx context.Context, a Act) (Change, error) {
	ch := Change{Motion: a.Motion, Voter: a.Voter}
	var standingTS int64
	err := v.hot.queryRow(ctx, `
		SELECT choice, ts FROM vote_acts WHERE motion_id=? AND voter=? AND withdrawn=0
		ORDER BY ts DESC, id DESC LIMIT 1`, a.Motion, a.Voter).Scan(&ch.Before, &standingTS)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ch, fmt.Errorf("read standing vote: %w", err)
	}
	res, err := v.hot.exec(ctx, `
		INSERT INTO vote_acts (motion_id, voter, choice, event_id, ts) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (event_id) DO NOTHING`, a.Motion, a.Voter, a.Choice, a.Event, a.Time.UnixMilli())
	if err != nil {
		return ch, fmt.Errorf("record vote: %w", err)
	}
	ch.After = ch.Before
	// A new act is the newest of equal timestamps (its id is the largest).
	if n, _ := res.RowsAffected(); n == 1 && (ch.Before == "" || a.Time.UnixMilli() >= standingTS) {
		ch.After = a.Choice
	}
	return ch, v.move(ctx, ch)
}

// Withdraw marks the act from event as withdrawn (its event was redacted).
// It reports false if the event was no act of voting.
func (v Votes) Withdraw(ctx context.Context, event id.EventID) (Change, bool, error) {
	var ch Change
	var withdrawn bool
	err := v.db.QueryRow(ctx, "SELECT motion_id, voter, withdrawn FROM vote_acts WHERE event_id=$1", event).
		Scan(&ch.Motion, &ch.Voter, &withdrawn)
	if errors.Is(err, sql.ErrNoRows) {
		return ch, false, nil
	} else if err != nil {
		return ch, false, fmt.Errorf("find vote: %w", err)
	}
	if ch.Before, err = v.Standing(ctx, ch.Motion, ch.Voter); err != nil {
		return ch, true, err
	}
	if withdrawn {
		ch.After = ch.Before
		return ch, true, nil
	}
	if _, err := v.db.Exec(ctx, "UPDATE vote_acts SET withdrawn=1 WHERE event_id=$1", event); err != nil {
		return ch, true, fmt.Errorf("withdraw vote: %w", err)
	}
	ch, err = v.settle(ctx, ch)
	return ch, true, err
}

// settle reads the voter's new standing choice and moves the counters.
func (v Votes) settle(ctx context.Context, ch Change) (Change, error) {
	var err error
	if ch.After, err = v.Standing(ctx, ch.Motion, ch.Voter); err != nil {
		return ch, err
	}
	return ch, v.move(ctx, ch)
}

// move shifts the motion's counters from the voter's old choice to the new
// one, in one statement.
func (v Votes) move(ctx context.Context, ch Change) error {
	if ch.After == ch.Before {
		return nil
	}
	delta := map[string]int{}
	delta[ch.Before]--
	delta[ch.After]++
	for c := range delta {
		if c != "" && c != "yes" && c != "no" && c != "abstain" {
			return fmt.Errorf("unknown choice %q", c)
		}
	}
	_, err := v.hot.exec(ctx, "UPDATE motions SET yes=yes+?, no=no+?, abstain=abstain+? WHERE id=?",
		delta["yes"], delta["no"], delta["abstain"], ch.Motion)
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
