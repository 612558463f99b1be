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

// Session statuses, as they appear in quorum.session's status.
const (
	SessionScheduled = "scheduled"
	SessionMoved     = "moved"
	SessionCancelled = "cancelled"
)

// RSVP answers.
const (
	RSVPYes   = "yes"
	RSVPMaybe = "maybe"
	RSVPNo    = "no"
)

// Session is a study session, or a series of them when RRule is set.
// Place is confidential when PrivatePlace is set.
type Session struct {
	ID           int64
	Room         id.RoomID
	Number       int
	UID          string
	Title        string
	Topic        string
	Place        string
	PrivatePlace bool
	Zone         string
	RRule        string
	SeriesStart  time.Time
	StartsAt     time.Time // the current occurrence
	Duration     time.Duration
	Round        int
	PrevAt       time.Time
	Status       string
	Sequence     int
	CreatedBy    id.UserID
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// EndsAt is when the current occurrence ends.
func (s *Session) EndsAt() time.Time { return s.StartsAt.Add(s.Duration) }

// Sessions is the study sessions table with their answers, reading lists
// and attendance.
type Sessions struct{ db *dbutil.Database }

// Sessions returns the study sessions table.
func (s *Store) Sessions() Sessions { return Sessions{s.DB} }

const sessionColumns = `id, room_id, number, uid, title, topic, place, private_place, zone, rrule, series_start,
	starts_at, duration_ms, round, prev_at, status, sequence, created_by, created_at, updated_at`

func scanSession(row dbutil.Scannable) (*Session, error) {
	var s Session
	var seriesStart, starts, dur, prev, created, updated int64
	err := row.Scan(&s.ID, &s.Room, &s.Number, &s.UID, &s.Title, &s.Topic, &s.Place, &s.PrivatePlace, &s.Zone,
		&s.RRule, &seriesStart, &starts, &dur, &s.Round, &prev, &s.Status, &s.Sequence, &s.CreatedBy, &created,
		&updated)
	if err != nil {
		return nil, err
	}
	s.SeriesStart, s.StartsAt, s.PrevAt = fromMS(seriesStart), fromMS(starts), fromMS(prev)
	s.Duration = time.Duration(dur) * time.Millisecond
	s.CreatedAt, s.UpdatedAt = fromMS(created), fromMS(updated)
	return &s, nil
}

// Create stores s with the next number of its room, setting ID and Number.
func (t Sessions) Create(ctx context.Context, s *Session) error {
	err := t.db.QueryRow(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM study_sessions WHERE room_id=$1", s.Room).
		Scan(&s.Number)
	if err != nil {
		return fmt.Errorf("number session: %w", err)
	}
	res, err := t.db.Exec(ctx, `INSERT INTO study_sessions (room_id, number, uid, title, topic, place, private_place,
		zone, rrule, series_start, starts_at, duration_ms, round, prev_at, status, sequence, created_by, created_at,
		updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		s.Room, s.Number, s.UID, s.Title, s.Topic, s.Place, s.PrivatePlace, s.Zone, s.RRule, ms(s.SeriesStart),
		ms(s.StartsAt), s.Duration.Milliseconds(), s.Round, ms(s.PrevAt), s.Status, s.Sequence, s.CreatedBy,
		ms(s.CreatedAt), ms(s.UpdatedAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	s.ID, err = res.LastInsertId()
	return err
}

// Update writes back every field of s that may change after creation.
func (t Sessions) Update(ctx context.Context, s *Session) error {
	_, err := t.db.Exec(ctx, `UPDATE study_sessions SET place=$2, private_place=$3, series_start=$4, starts_at=$5,
		round=$6, prev_at=$7, status=$8, sequence=$9, updated_at=$10 WHERE id=$1`,
		s.ID, s.Place, s.PrivatePlace, ms(s.SeriesStart), ms(s.StartsAt), s.Round, ms(s.PrevAt), s.Status,
		s.Sequence, ms(s.UpdatedAt))
	if err != nil {
		return fmt.Errorf("update session: %w", err)
	}
	return nil
}

func (t Sessions) one(ctx context.Context, where string, args ...any) (*Session, bool, error) {
	return queryOne(ctx, t.db, scanSession, "session", "SELECT "+sessionColumns+" FROM study_sessions WHERE "+where, args...)
}

func (t Sessions) list(ctx context.Context, query string, args ...any) ([]*Session, error) {
	return queryList(ctx, t.db, scanSession, "sessions", "SELECT "+sessionColumns+" FROM study_sessions WHERE "+query, args...)
}

// Get returns a session by ID.
func (t Sessions) Get(ctx context.Context, sessionID int64) (*Session, bool, error) {
	return t.one(ctx, "id=$1", sessionID)
}

// ByNumber returns session #n of room.
func (t Sessions) ByNumber(ctx context.Context, room id.RoomID, n int) (*Session, bool, error) {
	return t.one(ctx, "room_id=$1 AND number=$2", room, n)
}

// Upcoming lists room's sessions that are not cancelled and whose current
// occurrence has not ended at now, soonest first.
func (t Sessions) Upcoming(ctx context.Context, room id.RoomID, now time.Time) ([]*Session, error) {
	return t.list(ctx, "room_id=$1 AND status!=$2 AND starts_at+duration_ms>$3 ORDER BY starts_at, id",
		room, SessionCancelled, ms(now))
}

// All lists every session of room, by number.
func (t Sessions) All(ctx context.Context, room id.RoomID) ([]*Session, error) {
	return t.list(ctx, "room_id=$1 ORDER BY number", room)
}

// SeriesDue lists the series whose current occurrence ended by now.
func (t Sessions) SeriesDue(ctx context.Context, now time.Time) ([]*Session, error) {
	return t.list(ctx, "rrule!='' AND status!=$1 AND starts_at+duration_ms<=$2 ORDER BY id", SessionCancelled, ms(now))
}

// NextDue returns when a series next moves on (zero if never).
func (t Sessions) NextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	err := t.db.QueryRow(ctx, `SELECT MIN(starts_at+duration_ms) FROM study_sessions WHERE rrule!='' AND status!=$1`,
		SessionCancelled).Scan(&next)
	if err != nil {
		return time.Time{}, fmt.Errorf("read next session change: %w", err)
	}
	return fromMS(next.Int64), nil
}

// RSVP is one answer act.
type RSVP struct {
	Session int64
	Round   int
	User    id.UserID
	Answer  string
	Event   id.EventID
	At      time.Time
}

// Answer records an act and returns the member's answer for the round
// before and after it ("" for none).
func (t Sessions) Answer(ctx context.Context, a RSVP) (before, after string, err error) {
	if before, err = t.AnswerOf(ctx, a.Session, a.Round, a.User); err != nil {
		return "", "", err
	}
	_, err = t.db.Exec(ctx, `INSERT INTO study_rsvps (session_id, round, user_id, answer, event_id, at)
		VALUES ($1, $2, $3, $4, $5, $6)`, a.Session, a.Round, a.User, a.Answer, a.Event, ms(a.At))
	if err != nil {
		return "", "", fmt.Errorf("record answer: %w", err)
	}
	return before, a.Answer, nil
}

// Act returns the answer act of evt, if it is one and not withdrawn.
func (t Sessions) Act(ctx context.Context, evt id.EventID) (RSVP, bool, error) {
	var a RSVP
	var at int64
	err := t.db.QueryRow(ctx, `SELECT session_id, round, user_id, answer, event_id, at FROM study_rsvps
		WHERE event_id=$1 AND withdrawn=0`, evt).Scan(&a.Session, &a.Round, &a.User, &a.Answer, &a.Event, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return RSVP{}, false, nil
	} else if err != nil {
		return RSVP{}, false, fmt.Errorf("read answer: %w", err)
	}
	a.At = fromMS(at)
	return a, true, nil
}

// Withdraw withdraws the act of evt and returns its member's answer before
// and after.
func (t Sessions) Withdraw(ctx context.Context, a RSVP) (before, after string, err error) {
	if before, err = t.AnswerOf(ctx, a.Session, a.Round, a.User); err != nil {
		return "", "", err
	}
	if _, err = t.db.Exec(ctx, "UPDATE study_rsvps SET withdrawn=1 WHERE event_id=$1", a.Event); err != nil {
		return "", "", fmt.Errorf("withdraw answer: %w", err)
	}
	after, err = t.AnswerOf(ctx, a.Session, a.Round, a.User)
	return before, after, err
}

// WithdrawAll withdraws every answer of user for a session (they left).
func (t Sessions) WithdrawAll(ctx context.Context, sessionID int64, user id.UserID) error {
	if _, err := t.db.Exec(ctx, "UPDATE study_rsvps SET withdrawn=1 WHERE session_id=$1 AND user_id=$2", sessionID, user); err != nil {
		return fmt.Errorf("withdraw answers: %w", err)
	}
	return nil
}

// AnswerOf is user's current answer for a round ("" for none).
func (t Sessions) AnswerOf(ctx context.Context, sessionID int64, round int, user id.UserID) (string, error) {
	var answer string
	err := t.db.QueryRow(ctx, `SELECT answer FROM study_rsvps WHERE session_id=$1 AND round=$2 AND user_id=$3
		AND withdrawn=0 ORDER BY id DESC LIMIT 1`, sessionID, round, user).Scan(&answer)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("read answer: %w", err)
	}
	return answer, nil
}

// Answers maps each member who answered for a round to their answer.
func (t Sessions) Answers(ctx context.Context, sessionID int64, round int) (map[id.UserID]string, error) {
	rows, err := t.db.Query(ctx, `SELECT r.user_id, r.answer FROM study_rsvps r WHERE r.session_id=$1 AND r.round=$2
		AND r.id=(SELECT MAX(id) FROM study_rsvps x WHERE x.session_id=r.session_id AND x.round=r.round
		AND x.user_id=r.user_id AND x.withdrawn=0)`, sessionID, round)
	if err != nil {
		return nil, fmt.Errorf("list answers: %w", err)
	}
	defer rows.Close()
	out := map[id.UserID]string{}
	for rows.Next() {
		var u id.UserID
		var a string
		if err := rows.Scan(&u, &a); err != nil {
			return nil, fmt.Errorf("list answers: %w", err)
		}
		out[u] = a
	}
	return out, rows.Err()
}

// Reading is an entry of a session's reading list.
type Reading struct {
	Text    string
	AddedBy id.UserID
}

// AddReading appends to a session's reading list.
func (t Sessions) AddReading(ctx context.Context, sessionID int64, text string, by id.UserID, at time.Time) error {
	_, err := t.db.Exec(ctx, "INSERT INTO study_readings (session_id, text, added_by, added_at) VALUES ($1, $2, $3, $4)",
		sessionID, text, by, ms(at))
	if err != nil {
		return fmt.Errorf("add reading: %w", err)
	}
	return nil
}

// Readings is a session's reading list, in the order added.
func (t Sessions) Readings(ctx context.Context, sessionID int64) ([]Reading, error) {
	rows, err := t.db.Query(ctx, "SELECT text, added_by FROM study_readings WHERE session_id=$1 ORDER BY id", sessionID)
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (Reading, error) {
		var r Reading
		return r, row.Scan(&r.Text, &r.AddedBy)
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("list readings: %w", err)
	}
	return list, nil
}

// Attended records who came to a round held at heldAt; recording someone
// twice is harmless. It returns how many were new.
func (t Sessions) Attended(ctx context.Context, sessionID int64, round int, heldAt time.Time, users []id.UserID) (int, error) {
	added := 0
	for _, u := range users {
		res, err := t.db.Exec(ctx, `INSERT INTO study_attendance (session_id, round, held_at, user_id)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, sessionID, round, ms(heldAt), u)
		if err != nil {
			return 0, fmt.Errorf("record attendance: %w", err)
		}
		n, _ := res.RowsAffected()
		added += int(n)
	}
	return added, nil
}

// Attendance is how many came to one round of a session.
type Attendance struct {
	Topic  string // the session's topic, or its title if it has none
	HeldAt time.Time
	Count  int
}

// Attendance lists the recorded attendance of room's sessions, by topic
// then time.
func (t Sessions) Attendance(ctx context.Context, room id.RoomID) ([]Attendance, error) {
	rows, err := t.db.Query(ctx, `SELECT CASE WHEN s.topic='' THEN s.title ELSE s.topic END AS topic, a.held_at, COUNT(*)
		FROM study_attendance a JOIN study_sessions s ON s.id=a.session_id WHERE s.room_id=$1
		GROUP BY a.session_id, a.round ORDER BY topic, a.held_at`, room)
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (Attendance, error) {
		var a Attendance
		var held int64
		err := row.Scan(&a.Topic, &held, &a.Count)
		a.HeldAt = fromMS(held)
		return a, err
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("list attendance: %w", err)
	}
	return list, nil
}

// ReminderLead returns how long before the sessions they answered yes or
// maybe to user wants a DM, and false if they did not ask for any.
func (t Sessions) ReminderLead(ctx context.Context, user id.UserID) (time.Duration, bool, error) {
	var lead int64
	err := t.db.QueryRow(ctx, "SELECT lead_ms FROM study_optins WHERE user_id=$1", user).Scan(&lead)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("read session reminder setting: %w", err)
	}
	return time.Duration(lead) * time.Millisecond, true, nil
}

// SetReminderLead turns session reminders on for user with lead, or off if
// lead is 0.
func (t Sessions) SetReminderLead(ctx context.Context, user id.UserID, lead time.Duration) error {
	var err error
	if lead <= 0 {
		_, err = t.db.Exec(ctx, "DELETE FROM study_optins WHERE user_id=$1", user)
	} else {
		_, err = t.db.Exec(ctx, `INSERT INTO study_optins (user_id, lead_ms) VALUES ($1, $2)
			ON CONFLICT (user_id) DO UPDATE SET lead_ms=excluded.lead_ms`, user, lead.Milliseconds())
	}
	if err != nil {
		return fmt.Errorf("store session reminder setting: %w", err)
	}
	return nil
}

// AnsweredBy lists the upcoming (not ended, not cancelled) sessions user
// answered yes or maybe to, for re-planning their reminders.
func (t Sessions) AnsweredBy(ctx context.Context, user id.UserID, now time.Time) ([]*Session, error) {
	all, err := t.list(ctx, `status!=$1 AND starts_at+duration_ms>$2 AND id IN (SELECT session_id FROM study_rsvps
		WHERE user_id=$3 AND withdrawn=0) ORDER BY starts_at`, SessionCancelled, ms(now), user)
	if err != nil {
		return nil, err
	}
	var out []*Session
	for _, s := range all {
		a, err := t.AnswerOf(ctx, s.ID, s.Round, user)
		if err != nil {
			return nil, err
		}
		if a == RSVPYes || a == RSVPMaybe {
			out = append(out, s)
		}
	}
	return out, nil
}
