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

// Reminder kinds.
const (
	ReminderDuty     = "duty"
	ReminderPersonal = "personal"
	ReminderSession  = "session"
)

// Reminder is a message due at a set time, to one member by DM (User) or to
// a room (Room, with User empty). Text may be what a member typed: it is
// delivered and never logged, and sealed in the database (seal.go).
type Reminder struct {
	ID     int64
	Kind   string
	User   id.UserID
	Room   id.RoomID
	Number int    // personal: the owner's number, for !remind cancel
	Ref    string // what it is about; unique per kind and recipient when set
	Text   string
	// About is the start of what it is about (a turn, a session); zero for
	// none.
	About  time.Time
	DueAt  time.Time
	EndsAt time.Time // a late reminder is dropped from then on; zero: never
	Zone   string
	// RRule and SeriesStart make a recurring reminder, whose DueAt moves on
	// to the next occurrence each time it fires.
	RRule       string
	SeriesStart time.Time
	CreatedAt   time.Time
	SentAt      time.Time // zero until delivered or dropped
	Dropped     bool
}

// Reminders is the reminders table and the members' opt-ins.
type Reminders struct {
	db *dbutil.Database
	st *Store
}

// Reminders returns the reminders table.
func (s *Store) Reminders() Reminders { return Reminders{s.DB, s} }

const reminderColumns = `id, kind, user_id, room_id, number, ref, text, about_at, due_at, ends_at, zone,
	rrule, series_start, created_at, sent_at, dropped`

func (t Reminders) scanReminder(row dbutil.Scannable) (*Reminder, error) {
	var r Reminder
	var about, due, ends, start, created, sent int64
	var text []byte
	err := row.Scan(&r.ID, &r.Kind, &r.User, &r.Room, &r.Number, &r.Ref, &text, &about, &due, &ends, &r.Zone,
		&r.RRule, &start, &created, &sent, &r.Dropped)
	if err != nil {
		return nil, err
	}
	if isSealed(text) {
		text, err = t.st.seal.open("reminder", text, nil)
		if errors.Is(err, ErrSealKey) {
			// Restored without its seal key: remind without the text rather
			// than fail for ever.
			text = []byte("(what this reminder said was sealed with a key this database no longer has)")
		} else if err != nil {
			return nil, fmt.Errorf("open reminder text: %w", err)
		}
	}
	r.Text = string(text)
	r.About, r.DueAt, r.EndsAt, r.SeriesStart = fromMS(about), fromMS(due), fromMS(ends), fromMS(start)
	r.CreatedAt, r.SentAt = fromMS(created), fromMS(sent)
	return &r, nil
}

// Add stores r and sets its ID (and Number, for a personal reminder). It
// reports false, storing nothing, if a reminder of the same kind, recipient
// and Ref exists already, sent or not: so planning one twice sends it once.
func (t Reminders) Add(ctx context.Context, r *Reminder) (bool, error) {
	if r.Kind == ReminderPersonal {
		err := t.db.QueryRow(ctx, "SELECT COALESCE(MAX(number), 0) + 1 FROM reminders WHERE kind=$1 AND user_id=$2 AND sent_at=0",
			ReminderPersonal, r.User).Scan(&r.Number)
		if err != nil {
			return false, fmt.Errorf("number reminder: %w", err)
		}
	}
	var text any = ""
	if r.Text != "" {
		sealed, err := t.st.seal.seal("reminder", []byte(r.Text), nil)
		if err != nil {
			return false, fmt.Errorf("add reminder: %w", err)
		}
		text = sealed
	}
	res, err := t.db.Exec(ctx, `INSERT INTO reminders (kind, user_id, room_id, number, ref, text, about_at, due_at,
		ends_at, zone, rrule, series_start, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT DO NOTHING`,
		r.Kind, r.User, r.Room, r.Number, r.Ref, text, ms(r.About), ms(r.DueAt), ms(r.EndsAt), r.Zone,
		r.RRule, ms(r.SeriesStart), ms(r.CreatedAt))
	if err != nil {
		return false, fmt.Errorf("add reminder: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	r.ID, err = res.LastInsertId()
	return true, err
}

// Get returns a reminder by its ID.
func (t Reminders) Get(ctx context.Context, reminderID int64) (*Reminder, bool, error) {
	r, err := t.scanReminder(t.db.QueryRow(ctx, "SELECT "+reminderColumns+" FROM reminders WHERE id=$1", reminderID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("read reminder: %w", err)
	}
	return r, true, nil
}

// Due lists up to limit IDs of unsent reminders due at or before now,
// earliest first.
func (t Reminders) Due(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := t.db.Query(ctx, "SELECT id FROM reminders WHERE sent_at=0 AND due_at<=$1 ORDER BY due_at, id LIMIT $2",
		ms(now), limit)
	list, err := dbutil.NewRowIterWithError(rows, dbutil.ScanSingleColumn[int64], err).AsList()
	if err != nil {
		return nil, fmt.Errorf("list due reminders: %w", err)
	}
	return list, nil
}

// NextDue returns when the next unsent reminder is due (zero if none).
func (t Reminders) NextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := t.db.QueryRow(ctx, "SELECT MIN(due_at) FROM reminders WHERE sent_at=0").Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("read next reminder: %w", err)
	}
	return fromMS(next.Int64), nil
}

// MarkSent records that a reminder was delivered (or, with dropped, given
// up as too late); false if it was already.
func (t Reminders) MarkSent(ctx context.Context, reminderID int64, at time.Time, dropped bool) (bool, error) {
	res, err := t.db.Exec(ctx, "UPDATE reminders SET sent_at=$2, dropped=$3 WHERE id=$1 AND sent_at=0",
		reminderID, ms(at), dropped)
	if err != nil {
		return false, fmt.Errorf("mark reminder sent: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Reschedule moves a recurring reminder on to its next occurrence.
func (t Reminders) Reschedule(ctx context.Context, reminderID int64, due, about, ends time.Time) error {
	_, err := t.db.Exec(ctx, "UPDATE reminders SET due_at=$2, about_at=$3, ends_at=$4 WHERE id=$1",
		reminderID, ms(due), ms(about), ms(ends))
	if err != nil {
		return fmt.Errorf("reschedule reminder: %w", err)
	}
	return nil
}

// Pending lists user's unsent reminders of kind, by number then due time.
func (t Reminders) Pending(ctx context.Context, user id.UserID, kind string) ([]*Reminder, error) {
	rows, err := t.db.Query(ctx, "SELECT "+reminderColumns+` FROM reminders
		WHERE user_id=$1 AND kind=$2 AND sent_at=0 ORDER BY number, due_at`, user, kind)
	list, err := dbutil.NewRowIterWithError(rows, t.scanReminder, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("list reminders: %w", err)
	}
	return list, nil
}

// CancelNumber deletes user's unsent personal reminder number n; false if
// there is none.
func (t Reminders) CancelNumber(ctx context.Context, user id.UserID, n int) (bool, error) {
	res, err := t.db.Exec(ctx, "DELETE FROM reminders WHERE kind=$1 AND user_id=$2 AND number=$3 AND sent_at=0",
		ReminderPersonal, user, n)
	if err != nil {
		return false, fmt.Errorf("cancel reminder: %w", err)
	}
	n64, _ := res.RowsAffected()
	return n64 > 0, nil
}

// CancelUnsent deletes the unsent reminders of kind whose Ref starts with
// refPrefix, for user (or for everyone, if user is empty).
func (t Reminders) CancelUnsent(ctx context.Context, kind string, user id.UserID, refPrefix string) error {
	_, err := t.db.Exec(ctx, `DELETE FROM reminders WHERE kind=$1 AND ($2='' OR user_id=$2) AND sent_at=0
		AND substr(ref, 1, length($3))=$3`, kind, user, refPrefix)
	if err != nil {
		return fmt.Errorf("cancel reminders: %w", err)
	}
	return nil
}

// Sent says whether the reminder of kind, user and ref was delivered (or
// dropped) already.
func (t Reminders) Sent(ctx context.Context, kind string, user id.UserID, ref string) (bool, error) {
	var n int
	err := t.db.QueryRow(ctx, "SELECT COUNT(*) FROM reminders WHERE kind=$1 AND user_id=$2 AND room_id='' AND ref=$3 AND sent_at!=0",
		kind, user, ref).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("check reminder: %w", err)
	}
	return n > 0, nil
}

// Prune deletes reminders sent before cutoff whose EndsAt (if any) is
// before cutoff too: they can no longer be planned again.
func (t Reminders) Prune(ctx context.Context, cutoff time.Time) error {
	_, err := t.db.Exec(ctx, "DELETE FROM reminders WHERE sent_at!=0 AND sent_at<$1 AND ends_at<$1", ms(cutoff))
	if err != nil {
		return fmt.Errorf("prune reminders: %w", err)
	}
	return nil
}

// Lead returns how long before what it is about user wants reminders of
// kind (their roster turns, sessions they go to), and false if they did not
// ask for any.
func (t Reminders) Lead(ctx context.Context, user id.UserID, kind string) (time.Duration, bool, error) {
	var lead int64
	err := t.db.QueryRow(ctx, "SELECT lead_ms FROM reminder_optins WHERE user_id=$1 AND kind=$2", user, kind).Scan(&lead)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("read reminder setting: %w", err)
	}
	return time.Duration(lead) * time.Millisecond, true, nil
}

// SetLead turns reminders of kind on for user with the given lead time, or
// off if lead is 0.
func (t Reminders) SetLead(ctx context.Context, user id.UserID, kind string, lead time.Duration) error {
	var err error
	if lead <= 0 {
		_, err = t.db.Exec(ctx, "DELETE FROM reminder_optins WHERE user_id=$1 AND kind=$2", user, kind)
	} else {
		_, err = t.db.Exec(ctx, `INSERT INTO reminder_optins (user_id, kind, lead_ms) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, kind) DO UPDATE SET lead_ms=excluded.lead_ms`, user, kind, lead.Milliseconds())
	}
	if err != nil {
		return fmt.Errorf("store reminder setting: %w", err)
	}
	return nil
}
