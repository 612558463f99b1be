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

// Council is a room whose assembly is made of branches (!council on).
type Council struct {
	Room      id.RoomID
	Name      string
	Rule      string // branches, members or unanimous
	CreatedBy id.UserID
	CreatedAt time.Time
}

// Branch is a branch's bot admitted to a council and, once it announced
// itself, the branch it speaks for.
type Branch struct {
	Council    id.RoomID
	Bot        id.UserID
	AdmittedBy id.UserID
	AdmittedAt time.Time
	Room       id.RoomID // empty until announced
	Name       string
	Electorate int
}

// Affiliation is this bot's branch room deciding to join a council.
type Affiliation struct {
	Branch    id.RoomID
	Council   id.RoomID
	Motion int64
	Status string // proposed, carried, joined
}

// Affiliation statuses.
const (
	AffiliationProposed = "proposed"
	AffiliationCarried  = "carried"
	AffiliationJoined   = "joined"
)

// Federation is the councils, council_branches and affiliations tables.
type Federation struct{ db *dbutil.Database }

// Federation returns the federation tables.
func (s *Store) Federation() Federation { return Federation{s.DB} }

// SetCouncil makes room a council, or renames it.
func (t Federation) SetCouncil(ctx context.Context, c Council) error {
	_, err := t.db.Exec(ctx, `INSERT INTO councils (room_id, name, rule, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (room_id) DO UPDATE SET name=excluded.name`, c.Room, c.Name, c.Rule, c.CreatedBy, c.CreatedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("set council: %w", err)
	}
	return nil
}

// Council returns room's council, if it is one.
func (t Federation) Council(ctx context.Context, room id.RoomID) (*Council, bool, error) {
	var c Council
	var at int64
	err := t.db.QueryRow(ctx, "SELECT room_id, name, rule, created_by, created_at FROM councils WHERE room_id=$1", room).
		Scan(&c.Room, &c.Name, &c.Rule, &c.CreatedBy, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("read council: %w", err)
	}
	c.CreatedAt = time.UnixMilli(at)
	return &c, true, nil
}

// Admit records that a moderator admitted bot to council. It reports false
// if the bot was admitted already.
func (t Federation) Admit(ctx context.Context, council id.RoomID, bot, by id.UserID, at time.Time) (bool, error) {
	res, err := t.db.Exec(ctx, `INSERT INTO council_branches (council_room, bot, admitted_by, admitted_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, council, bot, by, at.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("admit branch: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Branch returns the branch that bot was admitted for in council.
func (t Federation) Branch(ctx context.Context, council id.RoomID, bot id.UserID) (*Branch, bool, error) {
	list, err := t.branches(ctx, "WHERE council_room=$1 AND bot=$2", council, bot)
	if err != nil || len(list) == 0 {
		return nil, false, err
	}
	return list[0], true, nil
}

// Branches lists council's admitted bots, announced or not, in order of
// admission.
func (t Federation) Branches(ctx context.Context, council id.RoomID) ([]*Branch, error) {
	return t.branches(ctx, "WHERE council_room=$1 ORDER BY admitted_at, bot", council)
}

func (t Federation) branches(ctx context.Context, where string, args ...any) ([]*Branch, error) {
	rows, err := t.db.Query(ctx, `SELECT council_room, bot, admitted_by, admitted_at, COALESCE(branch_room, ''), COALESCE(name, ''), COALESCE(electorate, 0)
		FROM council_branches `+where, args...)
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*Branch, error) {
		var b Branch
		var at int64
		err := row.Scan(&b.Council, &b.Bot, &b.AdmittedBy, &at, &b.Room, &b.Name, &b.Electorate)
		b.AdmittedAt = time.UnixMilli(at)
		return &b, err
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read branches: %w", err)
	}
	return list, nil
}

// Announce records the branch an admitted bot speaks for, or updates its
// name and electorate.
func (t Federation) Announce(ctx context.Context, b Branch, at time.Time) error {
	_, err := t.db.Exec(ctx, `UPDATE council_branches SET branch_room=$3, name=$4, electorate=$5, announced_at=$6
		WHERE council_room=$1 AND bot=$2`, b.Council, b.Bot, b.Room, b.Name, b.Electorate, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("announce branch: %w", err)
	}
	return nil
}

// SetAffiliation records where branch stands with council.
func (t Federation) SetAffiliation(ctx context.Context, a Affiliation, at time.Time) error {
	_, err := t.db.Exec(ctx, `INSERT INTO affiliations (branch_room, council_room, motion_id, status, changed_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (branch_room, council_room) DO UPDATE SET motion_id=excluded.motion_id, status=excluded.status,
			changed_at=excluded.changed_at`,
		a.Branch, a.Council, a.Motion, a.Status, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("set affiliation: %w", err)
	}
	return nil
}

// Affiliations lists the affiliations with council of this bot's branch
// rooms (at most one, unless one bot serves several branches).
func (t Federation) Affiliations(ctx context.Context, council id.RoomID) ([]*Affiliation, error) {
	return t.affiliations(ctx, "WHERE council_room=$1 ORDER BY branch_room", council)
}

// AffiliationOf returns branch's affiliation with council.
func (t Federation) AffiliationOf(ctx context.Context, branch, council id.RoomID) (*Affiliation, bool, error) {
	list, err := t.affiliations(ctx, "WHERE branch_room=$1 AND council_room=$2", branch, council)
	if err != nil || len(list) == 0 {
		return nil, false, err
	}
	return list[0], true, nil
}

func (t Federation) affiliations(ctx context.Context, where string, args ...any) ([]*Affiliation, error) {
	rows, err := t.db.Query(ctx, `SELECT branch_room, council_room, motion_id, status FROM affiliations `+where, args...)
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*Affiliation, error) {
		var a Affiliation
		err := row.Scan(&a.Branch, &a.Council, &a.Motion, &a.Status)
		return &a, err
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read affiliations: %w", err)
	}
	return list, nil
}

// Invited keeps an invite into council that came before an affiliation
// carried.
func (t Federation) Invited(ctx context.Context, council id.RoomID, by id.UserID, at time.Time) error {
	_, err := t.db.Exec(ctx, `INSERT INTO council_invites (council_room, invited_by, invited_at) VALUES ($1, $2, $3)
		ON CONFLICT (council_room) DO UPDATE SET invited_by=excluded.invited_by, invited_at=excluded.invited_at`, council, by, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("record council invite: %w", err)
	}
	return nil
}

// PendingInvite says whether an invite into council is waiting, and takes
// it (it is used once: the bot joins).
func (t Federation) PendingInvite(ctx context.Context, council id.RoomID) (bool, error) {
	res, err := t.db.Exec(ctx, "DELETE FROM council_invites WHERE council_room=$1", council)
	if err != nil {
		return false, fmt.Errorf("take council invite: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// IsBranchIn says whether this bot sits in room as a branch's bot (an
// affiliation joined it): it then speaks only for its branch there and
// takes no commands.
func (t Federation) IsBranchIn(ctx context.Context, room id.RoomID) (bool, error) {
	var n int
	err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM affiliations WHERE council_room=$1 AND status IN ('carried', 'joined')", room).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read affiliations: %w", err)
	}
	return n > 0, nil
}
