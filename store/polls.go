package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/id"
)

// Poll statuses.
const (
	PollOpen   = "open"
	PollClosed = "closed"
)

// Poll is a question put to a room (`!poll`): not a decision.
type Poll struct {
	ID       int64
	Room     id.RoomID
	Number   int
	Creator  id.UserID
	Question string
	// Answers are the answers' texts; answer i has the ID strconv.Itoa(i+1).
	Answers []string
	// Multiple is how many answers a member may choose.
	Multiple  int
	Status    string
	CreatedAt time.Time
	ClosesAt  time.Time
	ClosedAt  time.Time
	// Kind is "question" for `!poll`, or what another feature asked (a
	// study session's times), which it decides when the poll closes;
	// Payload is that feature's JSON.
	Kind, Payload string
}

// PollAct is one answer to a poll. Answers are the chosen IDs; none
// withdraws the member's answer.
type PollAct struct {
	Poll    int64
	Voter   id.UserID
	Answers []string
	Event   id.EventID
	Time    time.Time
}

// Polls is the polls table with its electorates and answers.
type Polls struct{ db *dbutil.Database }

// Polls returns the polls table.
func (s *Store) Polls() Polls { return Polls{s.DB} }

const pollColumns = `id, room_id, number, creator, question, answers, multiple, status, created_at, closes_at, closed_at, kind, payload`

func scanPoll(row dbutil.Scannable) (*Poll, error) {
	var p Poll
	var answers string
	var created, closes, closed int64
	err := row.Scan(&p.ID, &p.Room, &p.Number, &p.Creator, &p.Question, &answers, &p.Multiple, &p.Status, &created, &closes, &closed, &p.Kind, &p.Payload)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(answers), &p.Answers); err != nil {
		return nil, fmt.Errorf("poll %d answers: %w", p.ID, err)
	}
	p.CreatedAt, p.ClosesAt, p.ClosedAt = fromMS(created), fromMS(closes), fromMS(closed)
	return &p, nil
}

// nextNumber is the room's next number, shared by motions and polls so
// that `!close N` names one thing.
const nextNumber = `(SELECT MAX(COALESCE((SELECT MAX(number) FROM motions WHERE room_id=$1), 0),
	COALESCE((SELECT MAX(number) FROM polls WHERE room_id=$1), 0)) + 1)`

// Create stores a new open poll with its electorate, numbering it after the
// room's last motion or poll.
func (t Polls) Create(ctx context.Context, p *Poll, electorate []id.UserID) error {
	answers, err := json.Marshal(p.Answers)
	if err != nil {
		return fmt.Errorf("create poll: %w", err)
	}
	p.Status = PollOpen
	if p.Kind == "" {
		p.Kind, p.Payload = "question", "{}"
	}
	err = t.db.QueryRow(ctx, `
		INSERT INTO polls (room_id, number, creator, question, answers, multiple, status, created_at, closes_at, kind, payload)
		VALUES ($1, `+nextNumber+`, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id, number`,
		p.Room, p.Creator, p.Question, string(answers), p.Multiple, p.Status, ms(p.CreatedAt), ms(p.ClosesAt), p.Kind, p.Payload).
		Scan(&p.ID, &p.Number)
	if err != nil {
		return fmt.Errorf("create poll: %w", err)
	}
	for _, u := range electorate {
		if _, err := t.db.Exec(ctx, "INSERT INTO poll_electorate (poll_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", p.ID, u); err != nil {
			return fmt.Errorf("record poll electorate: %w", err)
		}
	}
	return nil
}

// ByNumber finds poll #number of room.
func (t Polls) ByNumber(ctx context.Context, room id.RoomID, number int) (*Poll, bool, error) {
	return queryOne(ctx, t.db, scanPoll, "poll", "SELECT "+pollColumns+" FROM polls WHERE room_id=$1 AND number=$2", room, number)
}

// Get finds a poll by ID.
func (t Polls) Get(ctx context.Context, pollID int64) (*Poll, bool, error) {
	return queryOne(ctx, t.db, scanPoll, "poll", "SELECT "+pollColumns+" FROM polls WHERE id=$1", pollID)
}

// Open lists the room's open polls.
func (t Polls) Open(ctx context.Context, room id.RoomID) ([]*Poll, error) {
	return queryList(ctx, t.db, scanPoll, "polls", "SELECT "+pollColumns+" FROM polls WHERE room_id=$1 AND status=$2 ORDER BY number", room, PollOpen)
}

// DueToClose lists open polls whose deadline is at or before now.
func (t Polls) DueToClose(ctx context.Context, now time.Time) ([]*Poll, error) {
	return queryList(ctx, t.db, scanPoll, "polls", "SELECT "+pollColumns+" FROM polls WHERE status=$1 AND closes_at <= $2 ORDER BY closes_at, id", PollOpen, now.UnixMilli())
}

// NextClose returns the earliest deadline of an open poll.
func (t Polls) NextClose(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := t.db.QueryRow(ctx, "SELECT MIN(closes_at) FROM polls WHERE status=$1", PollOpen).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("read schedule: %w", err)
	}
	return fromMS(next.Int64), nil
}

// Close records that a poll closed.
func (t Polls) Close(ctx context.Context, pollID int64, at time.Time) error {
	if _, err := t.db.Exec(ctx, "UPDATE polls SET status=$2, closed_at=$3 WHERE id=$1", pollID, PollClosed, ms(at)); err != nil {
		return fmt.Errorf("close poll: %w", err)
	}
	return nil
}

// InElectorate says whether user may answer a poll.
func (t Polls) InElectorate(ctx context.Context, pollID int64, user id.UserID) (bool, error) {
	var n int
	if err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM poll_electorate WHERE poll_id=$1 AND user_id=$2", pollID, user).Scan(&n); err != nil {
		return false, fmt.Errorf("check poll electorate: %w", err)
	}
	return n > 0, nil
}

// ElectorateSize counts who may answer.
func (t Polls) ElectorateSize(ctx context.Context, pollID int64) (int, error) {
	var n int
	if err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM poll_electorate WHERE poll_id=$1", pollID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count poll electorate: %w", err)
	}
	return n, nil
}

// Answer records an answer and reports whether it was new (a redelivered
// event changes nothing).
func (t Polls) Answer(ctx context.Context, a PollAct) (bool, error) {
	for _, id := range a.Answers {
		if id == "" || strings.Contains(id, ",") {
			return false, fmt.Errorf("bad answer ID %q", id)
		}
	}
	res, err := t.db.Exec(ctx, `INSERT INTO poll_acts (poll_id, voter, answers, event_id, ts) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (event_id) DO NOTHING`, a.Poll, a.Voter, strings.Join(a.Answers, ","), a.Event, a.Time.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("record answer: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// Act returns the answer recorded for event, if any.
func (t Polls) Act(ctx context.Context, event id.EventID) (PollAct, bool, error) {
	a := PollAct{Event: event}
	var answers string
	var ts int64
	err := t.db.QueryRow(ctx, "SELECT poll_id, voter, answers, ts FROM poll_acts WHERE event_id=$1", event).Scan(&a.Poll, &a.Voter, &answers, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return a, false, nil
	} else if err != nil {
		return a, false, fmt.Errorf("find answer: %w", err)
	}
	a.Answers, a.Time = splitAnswers(answers), time.UnixMilli(ts)
	return a, true, nil
}

// Withdraw marks the answer from event as withdrawn (its event was
// redacted).
func (t Polls) Withdraw(ctx context.Context, event id.EventID) error {
	if _, err := t.db.Exec(ctx, "UPDATE poll_acts SET withdrawn=1 WHERE event_id=$1", event); err != nil {
		return fmt.Errorf("withdraw answer: %w", err)
	}
	return nil
}

// Count counts a poll's answers from the acts: each member's latest answer
// that stands, ordered by the event's timestamp, then by arrival. It
// returns the votes for each answer ID and how many members answered.
func (t Polls) Count(ctx context.Context, pollID int64) (map[string]int, int, error) {
	rows, err := t.db.Query(ctx, `
		SELECT answers FROM poll_acts a
		WHERE poll_id=$1 AND withdrawn=0 AND NOT EXISTS (
			SELECT 1 FROM poll_acts b WHERE b.poll_id=a.poll_id AND b.voter=a.voter AND b.withdrawn=0
			AND (b.ts > a.ts OR (b.ts = a.ts AND b.id > a.id)))`, pollID)
	if err != nil {
		return nil, 0, fmt.Errorf("count answers: %w", err)
	}
	defer rows.Close()
	votes, voted := map[string]int{}, 0
	for rows.Next() {
		var answers string
		if err := rows.Scan(&answers); err != nil {
			return nil, 0, fmt.Errorf("count answers: %w", err)
		}
		if answers == "" {
			continue
		}
		voted++
		for _, a := range splitAnswers(answers) {
			votes[a]++
		}
	}
	return votes, voted, rows.Err()
}

func splitAnswers(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// TellOnce records that user was told why an answer did not count and
// reports whether this is the first time for this poll.
func (t Polls) TellOnce(ctx context.Context, pollID int64, user id.UserID) (bool, error) {
	res, err := t.db.Exec(ctx, "INSERT INTO poll_notices (poll_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", pollID, user)
	if err != nil {
		return false, fmt.Errorf("record notice: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
