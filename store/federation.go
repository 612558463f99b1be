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
	// VotingTime is the least voting time of the branch's motions, as its
	// bot announced it.
	VotingTime time.Duration
}

// Affiliation is this bot's branch room deciding to join a council.
type Affiliation struct {
	Branch  id.RoomID
	Council id.RoomID
	Motion  int64
	Status  string // proposed, carried, joined
	// CouncilBot invited this bot into the council: the only sender of
	// federal motions it reads there.
	CouncilBot id.UserID
	// Joined says the bot joined the council (it stays true while a
	// disaffiliation is voted on).
	Joined bool
	// Electorate is the branch's electorate this bot last announced in the
	// council (SetAnnounced).
	Electorate int
}

// Affiliation statuses.
const (
	AffiliationProposed = "proposed"
	AffiliationCarried  = "carried"
	AffiliationJoined   = "joined"
	// AffiliationLeaving: a disaffiliation motion is open.
	AffiliationLeaving = "leaving"
	AffiliationLeft    = "left"
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
	rows, err := t.db.Query(ctx, `SELECT council_room, bot, admitted_by, admitted_at, COALESCE(branch_room, ''), COALESCE(name, ''), COALESCE(electorate, 0), voting_ms
		FROM council_branches `+where, args...)
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*Branch, error) {
		var b Branch
		var at, voting int64
		err := row.Scan(&b.Council, &b.Bot, &b.AdmittedBy, &at, &b.Room, &b.Name, &b.Electorate, &voting)
		b.AdmittedAt, b.VotingTime = time.UnixMilli(at), time.Duration(voting)*time.Millisecond
		return &b, err
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read branches: %w", err)
	}
	return list, nil
}

// Announce records the branch an admitted bot speaks for, or updates its
// name, electorate and least voting time.
func (t Federation) Announce(ctx context.Context, b Branch, at time.Time) error {
	_, err := t.db.Exec(ctx, `UPDATE council_branches SET branch_room=$3, name=$4, electorate=$5, announced_at=$6, voting_ms=$7
		WHERE council_room=$1 AND bot=$2`, b.Council, b.Bot, b.Room, b.Name, b.Electorate, at.UnixMilli(), b.VotingTime.Milliseconds())
	if err != nil {
		return fmt.Errorf("announce branch: %w", err)
	}
	return nil
}

// SetAffiliation records where branch stands with council.
func (t Federation) SetAffiliation(ctx context.Context, a Affiliation, at time.Time) error {
	joined := a.Joined || a.Status == AffiliationJoined
	_, err := t.db.Exec(ctx, `INSERT INTO affiliations (branch_room, council_room, motion_id, status, council_bot, joined, changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (branch_room, council_room) DO UPDATE SET motion_id=excluded.motion_id, status=excluded.status,
			council_bot=excluded.council_bot, joined=excluded.joined, changed_at=excluded.changed_at`,
		a.Branch, a.Council, a.Motion, a.Status, a.CouncilBot, joined, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("set affiliation: %w", err)
	}
	return nil
}

// SetAnnounced records the electorate this bot announced for branch in
// council.
func (t Federation) SetAnnounced(ctx context.Context, branch, council id.RoomID, electorate int) error {
	_, err := t.db.Exec(ctx, "UPDATE affiliations SET electorate=$3 WHERE branch_room=$1 AND council_room=$2", branch, council, electorate)
	if err != nil {
		return fmt.Errorf("record announced electorate: %w", err)
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

// JoinedCouncils lists branch's affiliations with the councils this bot sits in
// for it.
func (t Federation) JoinedCouncils(ctx context.Context, branch id.RoomID) ([]*Affiliation, error) {
	return t.affiliations(ctx, "WHERE branch_room=$1 AND joined=1 AND status IN ($2, $3) ORDER BY council_room", branch, AffiliationJoined, AffiliationLeaving)
}

func (t Federation) affiliations(ctx context.Context, where string, args ...any) ([]*Affiliation, error) {
	rows, err := t.db.Query(ctx, `SELECT branch_room, council_room, motion_id, status, council_bot, joined, electorate FROM affiliations `+where, args...)
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*Affiliation, error) {
		var a Affiliation
		err := row.Scan(&a.Branch, &a.Council, &a.Motion, &a.Status, &a.CouncilBot, &a.Joined, &a.Electorate)
		return &a, err
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read affiliations: %w", err)
	}
	return list, nil
}

// Invited keeps an invite into council that came before an affiliation
// carried, one per inviter: who invited says nothing about who the
// council's bot is (the affiliation motion names it).
func (t Federation) Invited(ctx context.Context, council id.RoomID, by id.UserID, at time.Time) error {
	_, err := t.db.Exec(ctx, `INSERT INTO council_invites (council_room, invited_by, invited_at) VALUES ($1, $2, $3)
		ON CONFLICT (council_room, invited_by) DO NOTHING`, council, by, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("record council invite: %w", err)
	}
	return nil
}

// PendingInvites counts the invites kept waiting.
func (t Federation) PendingInvites(ctx context.Context) (int, error) {
	var n int
	if err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM council_invites").Scan(&n); err != nil {
		return 0, fmt.Errorf("count council invites: %w", err)
	}
	return n, nil
}

// PendingInvite says whether bot's invite into council is waiting, and
// takes the council's kept invites (they are used once: the bot joins if
// bot's is among them; the others are no one's to trust).
func (t Federation) PendingInvite(ctx context.Context, council id.RoomID, bot id.UserID) (bool, error) {
	var n int
	err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM council_invites WHERE council_room=$1 AND invited_by=$2", council, bot).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read council invite: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	if _, err := t.db.Exec(ctx, "DELETE FROM council_invites WHERE council_room=$1", council); err != nil {
		return false, fmt.Errorf("take council invites: %w", err)
	}
	return true, nil
}

// RemoveBranch forgets bot's branch in council (it disaffiliated).
func (t Federation) RemoveBranch(ctx context.Context, council id.RoomID, bot id.UserID) error {
	if _, err := t.db.Exec(ctx, "DELETE FROM council_branches WHERE council_room=$1 AND bot=$2", council, bot); err != nil {
		return fmt.Errorf("remove branch: %w", err)
	}
	return nil
}

// IsBranchIn says whether this bot sits in room as a branch's bot (an
// affiliation joined it): it then speaks only for its branch there and
// takes no commands.
func (t Federation) IsBranchIn(ctx context.Context, room id.RoomID) (bool, error) {
	var n int
	err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM affiliations WHERE council_room=$1 AND status IN ('carried', 'joined', 'leaving')", room).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read affiliations: %w", err)
	}
	return n > 0, nil
}

// FederalMotion is a motion opened in a council, decided by its branches.
type FederalMotion struct {
	ID       int64
	Council  id.RoomID
	Number   int
	Text     string
	Proposer id.UserID
	OpenedAt time.Time
	ClosesAt time.Time
	Status   string // open, carried, failed
}

// BranchResult is a branch's result of a federal motion.
type BranchResult struct {
	Motion     int64
	Bot        id.UserID
	Branch     id.RoomID
	Status     string
	Yes, No    int
	Abstain    int
	Electorate int
	RecordSeq  int64
	RecordHash string
}

// OpenFederal stores a new federal motion, numbered after council's last.
func (t Federation) OpenFederal(ctx context.Context, m *FederalMotion) error {
	err := t.db.QueryRow(ctx, `INSERT INTO federal_motions (council_room, number, text, proposer, opened_at, closes_at, status)
		VALUES ($1, (SELECT COALESCE(MAX(number), 0) + 1 FROM federal_motions WHERE council_room=$1), $2, $3, $4, $5, 'open')
		RETURNING id, number`, m.Council, m.Text, m.Proposer, m.OpenedAt.UnixMilli(), m.ClosesAt.UnixMilli()).Scan(&m.ID, &m.Number)
	if err != nil {
		return fmt.Errorf("open federal motion: %w", err)
	}
	m.Status = "open"
	return nil
}

const federalColumns = "id, council_room, number, text, proposer, opened_at, closes_at, status"

func scanFederal(row dbutil.Scannable) (*FederalMotion, error) {
	var m FederalMotion
	var opened, closes int64
	err := row.Scan(&m.ID, &m.Council, &m.Number, &m.Text, &m.Proposer, &opened, &closes, &m.Status)
	m.OpenedAt, m.ClosesAt = time.UnixMilli(opened), time.UnixMilli(closes)
	return &m, err
}

// Federal returns council's federal motion number n.
func (t Federation) Federal(ctx context.Context, council id.RoomID, n int) (*FederalMotion, bool, error) {
	m, err := scanFederal(t.db.QueryRow(ctx, "SELECT "+federalColumns+" FROM federal_motions WHERE council_room=$1 AND number=$2", council, n))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("read federal motion: %w", err)
	}
	return m, true, nil
}

// FederalDue lists the open federal motions whose deadline passed by now.
func (t Federation) FederalDue(ctx context.Context, now time.Time) ([]*FederalMotion, error) {
	rows, err := t.db.Query(ctx, "SELECT "+federalColumns+" FROM federal_motions WHERE status='open' AND closes_at <= $1 ORDER BY closes_at", now.UnixMilli())
	list, err := dbutil.NewRowIterWithError(rows, scanFederal, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read due federal motions: %w", err)
	}
	return list, nil
}

// NextFederalClose is the earliest deadline of an open federal motion.
func (t Federation) NextFederalClose(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	if err := t.db.QueryRow(ctx, "SELECT MIN(closes_at) FROM federal_motions WHERE status='open'").Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("read next federal close: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.UnixMilli(at.Int64), nil
}

// CloseFederal records a federal motion's outcome.
func (t Federation) CloseFederal(ctx context.Context, id int64, status string, at time.Time) error {
	_, err := t.db.Exec(ctx, "UPDATE federal_motions SET status=$2, closed_at=$3 WHERE id=$1", id, status, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("close federal motion: %w", err)
	}
	return nil
}

// AddResult stores a branch's result; it reports false if that branch's
// bot had reported on this motion already (the first report stands).
func (t Federation) AddResult(ctx context.Context, r BranchResult, at time.Time) (bool, error) {
	res, err := t.db.Exec(ctx, `INSERT INTO branch_results (federal_motion, bot, branch_room, status, yes, no, abstain, electorate, record_seq, record_hash, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
		r.Motion, r.Bot, r.Branch, r.Status, r.Yes, r.No, r.Abstain, r.Electorate, r.RecordSeq, r.RecordHash, at.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("store branch result: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SendFederal records the branches a federal motion was sent to when it
// opened: only these decide it.
func (t Federation) SendFederal(ctx context.Context, motion int64, branches []*Branch) error {
	for _, b := range branches {
		_, err := t.db.Exec(ctx, `INSERT INTO federal_motion_branches (federal_motion, bot, branch_room, name) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, motion, b.Bot, b.Room, b.Name)
		if err != nil {
			return fmt.Errorf("record federal motion's branches: %w", err)
		}
	}
	return nil
}

// SentTo lists the branches (bot and room) a federal motion was sent to;
// none for a motion opened before they were recorded.
func (t Federation) SentTo(ctx context.Context, motion int64) ([]*Branch, error) {
	rows, err := t.db.Query(ctx, "SELECT bot, branch_room, name FROM federal_motion_branches WHERE federal_motion=$1 ORDER BY bot", motion)
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*Branch, error) {
		var b Branch
		err := row.Scan(&b.Bot, &b.Room, &b.Name)
		return &b, err
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read federal motion's branches: %w", err)
	}
	return list, nil
}

// Results lists the branch results of a federal motion.
func (t Federation) Results(ctx context.Context, motion int64) ([]*BranchResult, error) {
	rows, err := t.db.Query(ctx, `SELECT federal_motion, bot, branch_room, status, yes, no, abstain, electorate, record_seq, record_hash
		FROM branch_results WHERE federal_motion=$1 ORDER BY received_at, bot`, motion)
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (*BranchResult, error) {
		var r BranchResult
		err := row.Scan(&r.Motion, &r.Bot, &r.Branch, &r.Status, &r.Yes, &r.No, &r.Abstain, &r.Electorate, &r.RecordSeq, &r.RecordHash)
		return &r, err
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("read branch results: %w", err)
	}
	return list, nil
}

// LinkBranchMotion records the branch motion opened for a council's
// federal motion; it reports false if one was opened already.
func (t Federation) LinkBranchMotion(ctx context.Context, branch, council id.RoomID, councilMotion int, motion int64) (bool, error) {
	res, err := t.db.Exec(ctx, `INSERT INTO federal_branch_motions (branch_room, council_room, council_motion, motion_id)
		VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, branch, council, councilMotion, motion)
	if err != nil {
		return false, fmt.Errorf("link branch motion: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// HasBranchMotion says whether branch has a motion for council's federal
// motion n already.
func (t Federation) HasBranchMotion(ctx context.Context, branch, council id.RoomID, n int) (bool, error) {
	var c int
	err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM federal_branch_motions WHERE branch_room=$1 AND council_room=$2 AND council_motion=$3", branch, council, n).Scan(&c)
	if err != nil {
		return false, fmt.Errorf("read branch motions: %w", err)
	}
	return c > 0, nil
}
