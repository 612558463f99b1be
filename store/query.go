package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.mau.fi/util/dbutil"
)

// queryOne runs a query for at most one row and scans it; what names the
// thing in the error ("read motion: ..."). No row is (nil, false, nil).
func queryOne[T any](ctx context.Context, db *dbutil.Database, scan func(dbutil.Scannable) (*T, error), what, query string, args ...any) (*T, bool, error) {
	v, err := scan(db.QueryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", what, err)
	}
	return v, true, nil
}

// queryList runs a query and scans every row.
func queryList[T any](ctx context.Context, db *dbutil.Database, scan func(dbutil.Scannable) (*T, error), what, query string, args ...any) ([]*T, error) {
	rows, err := db.Query(ctx, query, args...)
	list, err := dbutil.NewRowIterWithError(rows, scan, err).AsList()
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", what, err)
	}
	return list, nil
}
