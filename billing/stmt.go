package billing

import (
	"context"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// stmtCache holds the hot path's queries prepared once per database handle. A prepared
// statement is parsed and planned once per connection (PostgreSQL then settles on a generic
// plan), where an unnamed statement is planned on every call — for the multi-CTE usage write
// that planning cost more than running it.
type stmtCache struct {
	db *sqlx.DB
	mu sync.Mutex
	m  map[string]*sqlx.Stmt
}

// stmt returns query prepared on the database, bound to tx when tx is not nil (database/sql
// reuses the preparation on the transaction's connection).
func (c *stmtCache) stmt(ctx context.Context, tx *sqlx.Tx, query string) (*sqlx.Stmt, error) {
	c.mu.Lock()
	st, ok := c.m[query]
	if !ok {
		var err error
		if st, err = c.db.PreparexContext(ctx, query); err != nil {
			c.mu.Unlock()
			return nil, fmt.Errorf("billing: prepare: %w", err)
		}
		if c.m == nil {
			c.m = map[string]*sqlx.Stmt{}
		}
		c.m[query] = st
	}
	c.mu.Unlock()
	if tx == nil {
		return st, nil
	}
	return tx.StmtxContext(ctx, st), nil
}

// get runs a prepared query returning one row into dest.
func (c *stmtCache) get(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	st, err := c.stmt(ctx, tx, query)
	if err != nil {
		return err
	}
	return st.GetContext(ctx, dest, args...)
}

// selectAll runs a prepared query returning rows into dest.
func (c *stmtCache) selectAll(ctx context.Context, tx *sqlx.Tx, dest any, query string, args ...any) error {
	st, err := c.stmt(ctx, tx, query)
	if err != nil {
		return err
	}
	return st.SelectContext(ctx, dest, args...)
}

// query runs a prepared query and returns its rows.
func (c *stmtCache) query(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (*sqlx.Rows, error) {
	st, err := c.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryxContext(ctx, args...)
}
