package store

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// TrustNotices remembers what the bot said once about a member's sessions
// and identity (see upgrades/10-trust-notices.sql).
type TrustNotices struct{ db *dbutil.Database }

// TrustNotices returns the table of trust notices.
func (s *Store) TrustNotices() TrustNotices { return TrustNotices{s.DB} }

// First records that user was told about subject at the given time, and
// reports whether this is the first time.
func (t TrustNotices) First(ctx context.Context, user id.UserID, subject string, at time.Time) (bool, error) {
	res, err := t.db.Exec(ctx, "INSERT INTO trust_notices (user_id, subject, told_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
		user, subject, at.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("record trust notice: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
