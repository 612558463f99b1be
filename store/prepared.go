package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"go.mau.fi/util/dbutil"
)

// prepared caches prepared statements for the hot paths (casting a vote).
// SQLite spends most of a small statement's time parsing it; preparing once
// per connection makes ingesting a burst of votes several times faster.
// Queries here use SQLite's own ? placeholders.
type prepared struct {
	db    *dbutil.Database
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	// The statements bound to the latest transaction: binding one per call
	// allocates and registers a statement the transaction closes at its end.
	tx    *sql.Tx
	bound map[string]*sql.Stmt
}

func (p *prepared) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.stmts[query]; ok {
		return s, nil
	}
	s, err := p.db.RawDB.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if p.stmts == nil {
		p.stmts = map[string]*sql.Stmt{}
	}
	p.stmts[query] = s
	return s, nil
}

// inTx returns the statement for query bound to the transaction in ctx, if
// there is one, so the cached statement joins it like any other query.
func (p *prepared) inTx(ctx context.Context, query string) (*sql.Stmt, error) {
	s, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	txn, ok := p.db.Execable(ctx).(*dbutil.LoggingTxn)
	if !ok {
		return s, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tx != txn.UnderlyingTx {
		p.tx, p.bound = txn.UnderlyingTx, map[string]*sql.Stmt{}
	}
	b, ok := p.bound[query]
	if !ok {
		b = p.tx.StmtContext(ctx, s)
		p.bound[query] = b
	}
	return b, nil
}

func (p *prepared) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := p.inTx(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (p *prepared) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.stmts {
		_ = s.Close()
	}
	p.stmts, p.tx, p.bound = nil, nil, nil
}
