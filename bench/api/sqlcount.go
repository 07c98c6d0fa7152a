package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sort"
	"sync"
	"time"

	"github.com/lib/pq"
)

// sqlCounter counts the statements the server sends and times them as the server sees them
// (a round trip, from sending the statement to its first answer), by wrapping lib/pq. It needs
// nothing from PostgreSQL, unlike pg_stat_statements.
type sqlCounter struct {
	mu    sync.Mutex
	stats map[string]*clientStat
}

type clientStat struct {
	Query string
	Calls int64
	Total time.Duration
}

func (c *sqlCounter) add(query string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stats == nil {
		c.stats = map[string]*clientStat{}
	}
	s := c.stats[query]
	if s == nil {
		s = &clientStat{Query: query}
		c.stats[query] = s
	}
	s.Calls++
	s.Total += d
}

func (c *sqlCounter) reset() {
	c.mu.Lock()
	c.stats = nil
	c.mu.Unlock()
}

// snapshot returns the statements by calls, then total time.
func (c *sqlCounter) snapshot() []clientStat {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]clientStat, 0, len(c.stats))
	for _, s := range c.stats {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Calls != out[j].Calls {
			return out[i].Calls > out[j].Calls
		}
		return out[i].Total > out[j].Total
	})
	return out
}

// openCounted opens dsn through lib/pq with every statement counted by c.
func openCounted(dsn string, c *sqlCounter) (*sql.DB, error) {
	conn, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(&countingConnector{Connector: conn, c: c}), nil
}

type countingConnector struct {
	driver.Connector
	c *sqlCounter
}

func (k *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := k.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, c: k.c}, nil
}

// countingConn forwards to lib/pq's connection, timing each statement.
type countingConn struct {
	driver.Conn
	c *sqlCounter
}

func (cc *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	t := time.Now()
	tx, err := cc.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	cc.c.add("BEGIN", time.Since(t))
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, c: cc.c}, nil
}

func (cc *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	t := time.Now()
	rows, err := cc.Conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	cc.c.add(query, time.Since(t))
	return rows, err
}

func (cc *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	t := time.Now()
	res, err := cc.Conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	cc.c.add(query, time.Since(t))
	return res, err
}

func (cc *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	t := time.Now()
	st, err := cc.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	cc.c.add("PREPARE "+query, time.Since(t))
	if err != nil {
		return nil, err
	}
	return &countingStmt{Stmt: st, query: query, c: cc.c}, nil
}

// countingStmt times the executions of a prepared statement under its query text.
type countingStmt struct {
	driver.Stmt
	query string
	c     *sqlCounter
}

func (st *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	t := time.Now()
	rows, err := st.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	st.c.add(st.query, time.Since(t))
	return rows, err
}

func (st *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	t := time.Now()
	res, err := st.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	st.c.add(st.query, time.Since(t))
	return res, err
}

func (cc *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := cc.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (cc *countingConn) Ping(ctx context.Context) error {
	if p, ok := cc.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (cc *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := cc.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (cc *countingConn) IsValid() bool {
	if v, ok := cc.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

type countingTx struct {
	driver.Tx
	c *sqlCounter
}

func (tx *countingTx) Commit() error {
	t := time.Now()
	err := tx.Tx.Commit()
	tx.c.add("COMMIT", time.Since(t))
	return err
}

func (tx *countingTx) Rollback() error {
	t := time.Now()
	err := tx.Tx.Rollback()
	tx.c.add("ROLLBACK", time.Since(t))
	return err
}
