package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"go.mau.fi/util/dbutil"
)

// Edit is a notice edit that fell due: the notice of Kind about Ref.
type Edit struct {
	Kind string
	Ref  int64
}

// Edits is the queue of notice edits (notice_edits): a notice that shows a
// live count is edited once after a burst of changes.
type Edits struct{ db *dbutil.Database }

// Edits returns the queue of notice edits.
func (s *Store) Edits() Edits { return Edits{s.DB} }

// Schedule asks for the notice of kind about ref to be edited at at, or
// minGap after its last edit if that is later, unless an edit is due
// sooner already (so a burst of changes makes one edit).
func (t Edits) Schedule(ctx context.Context, kind string, ref int64, at time.Time, minGap time.Duration) error {
	_, err := t.db.Exec(ctx, `
		INSERT INTO notice_edits (kind, ref, due_at) VALUES ($1, $2, $3)
		ON CONFLICT (kind, ref) DO UPDATE SET due_at = CASE
			WHEN due_at != 0 AND due_at <= MAX(excluded.due_at, edited_at + $4) THEN due_at
			ELSE MAX(excluded.due_at, edited_at + $4) END`,
		kind, ref, at.UnixMilli(), minGap.Milliseconds())
	if err != nil {
		return fmt.Errorf("schedule notice edit: %w", err)
	}
	return nil
}

// Due lists the edits due by now, earliest first.
func (t Edits) Due(ctx context.Context, now time.Time) ([]Edit, error) {
	rows, err := t.db.Query(ctx, "SELECT kind, ref FROM notice_edits WHERE due_at != 0 AND due_at <= $1 ORDER BY due_at, kind, ref", now.UnixMilli())
	list, err := dbutil.NewRowIterWithError(rows, func(row dbutil.Scannable) (e Edit, err error) {
		err = row.Scan(&e.Kind, &e.Ref)
		return
	}, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("list notice edits: %w", err)
	}
	return list, nil
}

// Done records that the notice of kind about ref was edited (queued) at at.
func (t Edits) Done(ctx context.Context, kind string, ref int64, at time.Time) error {
	_, err := t.db.Exec(ctx, "UPDATE notice_edits SET due_at=0, edited_at=$3 WHERE kind=$1 AND ref=$2", kind, ref, at.UnixMilli())
	if err != nil {
		return fmt.Errorf("record notice edit: %w", err)
	}
	return nil
}

// Cancel drops a pending edit: the notice was posted anew, or has ended.
func (t Edits) Cancel(ctx context.Context, kind string, ref int64) error {
	_, err := t.db.Exec(ctx, "UPDATE notice_edits SET due_at=0 WHERE kind=$1 AND ref=$2", kind, ref)
	if err != nil {
		return fmt.Errorf("cancel notice edit: %w", err)
	}
	return nil
}

// Next returns when the next edit is due (zero if none is).
func (t Edits) Next(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := t.db.QueryRow(ctx, "SELECT MIN(due_at) FROM notice_edits WHERE due_at != 0").Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("read next notice edit: %w", err)
	}
	return fromMS(next.Int64), nil
}
