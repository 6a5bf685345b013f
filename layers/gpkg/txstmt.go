package gpkg

import (
	"context"
	"database/sql"
	"sync"
)

// Statements run inside a transaction are prepared once too, as the reads'
// are (query.go): modernc's SQLite compiles a statement each time it is
// prepared, and a feature's INSERT or UPDATE compiles with it the R-tree,
// change-log and history triggers it sets off, which cost more than the
// write itself (about a quarter of an edit's CPU before they were kept).
//
// A statement is prepared on the pool, not on the transaction (whose
// statements end with it), and the write pool has a single connection,
// which a transaction holds: preparing from inside one would wait for
// itself. So a statement a transaction asks for the first time runs
// unprepared, and is prepared before the next transaction begins
// (txStatements.prepare). The text of each is fixed by the layer's
// declaration: a redeclared layer's statements are new texts, and SQLite
// compiles a kept one again itself when the schema changed.

// txStatements are the statements kept for the transactions of one pool.
type txStatements struct {
	db   *sql.DB
	mu   sync.Mutex
	m    map[string]*sql.Stmt
	want map[string]bool // asked for, to be prepared
}

// get returns the kept statement of text, or nil, then noting that it is
// wanted (at most maxStatements are kept).
func (c *txStatements) get(text string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[text]; st != nil {
		return st
	}
	if len(c.m)+len(c.want) < maxStatements {
		if c.want == nil {
			c.want = map[string]bool{}
		}
		c.want[text] = true
	}
	return nil
}

// prepare prepares the statements wanted since the last call. Call it
// when no transaction of this goroutine holds a connection of c.db.
func (c *txStatements) prepare(ctx context.Context) {
	c.mu.Lock()
	want := c.want
	c.want = nil
	c.mu.Unlock()
	for text := range want {
		st, err := c.db.PrepareContext(ctx, text)
		if err != nil {
			// The statement says what is wrong when it runs.
			continue
		}
		c.mu.Lock()
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		if c.m[text] == nil {
			c.m[text] = st
			st = nil
		}
		c.mu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

// close closes the kept statements.
func (c *txStatements) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for text, st := range c.m {
		st.Close()
		delete(c.m, text)
	}
	c.want = nil
}

// stmtTx is a transaction whose statements go through the kept ones.
// Its methods are those of *sql.Tx, so it serves as a querier.
type stmtTx struct {
	*sql.Tx
	c     *txStatements
	conn  any       // the driver's connection the transaction is on
	began connState // as it was when the transaction began (edit.go)
}

func (q stmtTx) ExecContext(ctx context.Context, text string, args ...any) (sql.Result, error) {
	if st := q.c.get(text); st != nil {
		return q.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return q.Tx.ExecContext(ctx, text, args...)
}

func (q stmtTx) QueryContext(ctx context.Context, text string, args ...any) (*sql.Rows, error) {
	if st := q.c.get(text); st != nil {
		return q.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return q.Tx.QueryContext(ctx, text, args...)
}

func (q stmtTx) QueryRowContext(ctx context.Context, text string, args ...any) *sql.Row {
	if st := q.c.get(text); st != nil {
		return q.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return q.Tx.QueryRowContext(ctx, text, args...)
}

// execer is what runs a statement that returns no rows: *sql.Tx, stmtTx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type execQuerier interface {
	execer
	querier
}
