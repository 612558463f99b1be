package store

import (
	"context"
	"fmt"
	"time"

	"maunium.net/go/mautrix/id"
)

// MotionSuspended is a motion whose vote is suspended while an amendment
// to it is decided.
const MotionSuspended MotionStatus = "suspended"

// Suspend stops the vote on an open motion (an amendment to it opened).
func (t Motions) Suspend(ctx context.Context, motionID int64) error {
	_, err := t.db.Exec(ctx, "UPDATE motions SET status=$2 WHERE id=$1 AND status=$3", motionID, MotionSuspended, MotionOpen)
	if err != nil {
		return fmt.Errorf("suspend motion: %w", err)
	}
	return nil
}

// Resume reopens a suspended motion's vote until closes.
func (t Motions) Resume(ctx context.Context, motionID int64, closes time.Time) error {
	_, err := t.db.Exec(ctx, "UPDATE motions SET status=$2, closes_at=$3 WHERE id=$1 AND status=$4",
		motionID, MotionOpen, ms(closes), MotionSuspended)
	if err != nil {
		return fmt.Errorf("resume motion: %w", err)
	}
	return nil
}

// Amend replaces a suspended motion's text, clears the votes cast on it
// (their acts stay, withdrawn, for the history), and reopens its vote from
// now until closes, by reaction and !vote (not by its poll). It returns who
// had a vote standing.
func (t Motions) Amend(ctx context.Context, motionID int64, text string, now, closes time.Time) ([]id.UserID, error) {
	rows, err := t.db.Query(ctx, "SELECT DISTINCT voter FROM vote_acts WHERE motion_id=$1 AND withdrawn=0 ORDER BY voter", motionID)
	if err != nil {
		return nil, fmt.Errorf("read voters: %w", err)
	}
	var voters []id.UserID
	for rows.Next() {
		var u id.UserID
		if err := rows.Scan(&u); err != nil {
			_ = rows.Close()
			return nil, fmt.Errorf("read voters: %w", err)
		}
		voters = append(voters, u)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("read voters: %w", err)
	}
	if _, err := t.db.Exec(ctx, "UPDATE vote_acts SET withdrawn=1 WHERE motion_id=$1 AND withdrawn=0", motionID); err != nil {
		return nil, fmt.Errorf("clear votes: %w", err)
	}
	// Its poll, if it had one, showed the old wording: it is ended, and the
	// new wording is voted by reaction and !vote.
	_, err = t.db.Exec(ctx, `UPDATE motions SET text=$2, status=$3, opened_at=$4, closes_at=$5, yes=0, no=0, abstain=0,
		settles_at=0, poll=0, reactions=1 WHERE id=$1 AND status=$6`, motionID, text, MotionOpen, ms(now), ms(closes), MotionSuspended)
	if err != nil {
		return nil, fmt.Errorf("amend motion: %w", err)
	}
	return voters, nil
}
