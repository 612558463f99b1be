package store

import (
	"context"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Seat is a member a branch elected to sit in a council, seated by the
// council's bot on the word of the branch's bot.
type Seat struct {
	Council    id.RoomID
	Branch     id.RoomID
	User       id.UserID
	Bot        id.UserID
	Delegation int
	// Invited: the council's bot invited the member for a seat; it removes
	// them when the last branch unseats them.
	Invited bool
	Since   time.Time
}

// Seat records s; it reports false, changing nothing, if s's branch seats
// that member already.
func (t Federation) Seat(ctx context.Context, s Seat) (bool, error) {
	res, err := t.db.Exec(ctx, `INSERT INTO council_delegates (council_room, branch_room, user_id, bot, delegation, invited, seated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
		s.Council, s.Branch, s.User, s.Bot, s.Delegation, s.Invited, s.Since.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("seat council delegate: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Unseat takes away the seat branch gave user in council by delegation;
// it returns the seat, and false if there was none. If the council's bot
// had invited the member for it, the invitation passes to their other
// seats, so that the last one still removes them.
func (t Federation) Unseat(ctx context.Context, council, branch id.RoomID, user id.UserID, delegation int) (*Seat, bool, error) {
	list, err := t.seats(ctx, "WHERE council_room=$1 AND branch_room=$2 AND user_id=$3 AND delegation=$4", council, branch, user, delegation)
	if err != nil || len(list) == 0 {
		return nil, false, err
	}
	if _, err := t.db.Exec(ctx, "DELETE FROM council_delegates WHERE council_room=$1 AND branch_room=$2 AND user_id=$3", council, branch, user); err != nil {
		return nil, false, fmt.Errorf("unseat council delegate: %w", err)
	}
	if list[0].Invited {
		if _, err := t.db.Exec(ctx, "UPDATE council_delegates SET invited=1 WHERE council_room=$1 AND user_id=$2", council, user); err != nil {
			return nil, false, fmt.Errorf("unseat council delegate: %w", err)
		}
	}
	return list[0], true, nil
}

// Seats lists council's seated delegates, by branch, then in order of
// seating.
func (t Federation) Seats(ctx context.Context, council id.RoomID) ([]*Seat, error) {
	return t.seats(ctx, "WHERE council_room=$1 ORDER BY branch_room, seated_at, user_id", council)
}

// SeatsOf lists the seats user holds in council, from any branch.
func (t Federation) SeatsOf(ctx context.Context, council id.RoomID, user id.UserID) ([]*Seat, error) {
	return t.seats(ctx, "WHERE council_room=$1 AND user_id=$2 ORDER BY seated_at, branch_room", council, user)
}

// BranchSeats lists the seats branch gives in council.
func (t Federation) BranchSeats(ctx context.Context, council, branch id.RoomID) ([]*Seat, error) {
	return t.seats(ctx, "WHERE council_room=$1 AND branch_room=$2 ORDER BY seated_at, user_id", council, branch)
}

func (t Federation) seats(ctx context.Context, where string, args ...any) ([]*Seat, error) {
	return queryList(ctx, t.db, scanSeat, "council delegates",
		"SELECT council_room, branch_room, user_id, bot, delegation, invited, seated_at FROM council_delegates "+where, args...)
}

func scanSeat(row dbutil.Scannable) (*Seat, error) {
	var s Seat
	var at int64
	err := row.Scan(&s.Council, &s.Branch, &s.User, &s.Bot, &s.Delegation, &s.Invited, &at)
	s.Since = time.UnixMilli(at)
	return &s, err
}
