package store

import (
	"context"
	"fmt"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Secret holds secret ballots: who voted, and separately, what was voted
// under which receipt code. Nothing here links the two.
type Secret struct{ db *dbutil.Database }

// Secret returns the secret ballot tables.
func (s *Store) Secret() Secret { return Secret{s.DB} }

// Cast records that voter voted and, apart from that, the ballot under its
// code, and counts it in the motion's tally. It returns false, changing
// nothing, if voter has voted already (a secret ballot cannot be changed:
// that would need the link this design avoids).
func (s Secret) Cast(ctx context.Context, motionID int64, voter id.UserID, choice, code string) (bool, error) {
	col, ok := map[string]string{"yes": "yes", "no": "no", "abstain": "abstain"}[choice]
	if !ok {
		return false, fmt.Errorf("unknown choice %q", choice)
	}
	res, err := s.db.Exec(ctx, "INSERT INTO secret_voters (motion_id, voter) VALUES ($1, $2) ON CONFLICT DO NOTHING", motionID, voter)
	if err != nil {
		return false, fmt.Errorf("record voter: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if _, err := s.db.Exec(ctx, "INSERT INTO secret_ballots (motion_id, code, choice) VALUES ($1, $2, $3)", motionID, code, choice); err != nil {
		return false, fmt.Errorf("record ballot: %w", err)
	}
	if _, err := s.db.Exec(ctx, "UPDATE motions SET "+col+"="+col+"+1 WHERE id=$1", motionID); err != nil {
		return false, fmt.Errorf("count ballot: %w", err)
	}
	return true, nil
}

// Receipts returns every ballot of the motion by receipt code, for the
// result, so that each voter can check theirs was counted as cast.
func (s Secret) Receipts(ctx context.Context, motionID int64) (map[string]string, error) {
	rows, err := s.db.Query(ctx, "SELECT code, choice FROM secret_ballots WHERE motion_id=$1 ORDER BY code", motionID)
	if err != nil {
		return nil, fmt.Errorf("read ballots: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var code, choice string
		if err := rows.Scan(&code, &choice); err != nil {
			return nil, fmt.Errorf("read ballots: %w", err)
		}
		out[code] = choice
	}
	return out, rows.Err()
}

// OpenByNumber lists open secret motions numbered n in which voter is in
// the electorate, across rooms (a ballot is cast in the voter's direct room,
// which is not the motion's room).
func (s Secret) OpenByNumber(ctx context.Context, voter id.UserID, n int) ([]*Motion, error) {
	rows, err := s.db.Query(ctx, "SELECT "+motionColumns+` FROM motions
		WHERE secret=1 AND status=$1 AND number=$2
		AND id IN (SELECT motion_id FROM electorate WHERE user_id=$3) ORDER BY id`, MotionOpen, n, voter)
	list, err := dbutil.NewRowIterWithError(rows, scanMotion, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("find secret motions: %w", err)
	}
	return list, nil
}
