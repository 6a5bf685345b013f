package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// batchInsert writes rows through a prepared INSERT of many rows at a
// time: per statement, database/sql, the driver and SQLite cost about as
// much as a row of a new table, so one statement per row would cost most
// of a bulk write.
type batchInsert struct {
	ctx             context.Context
	tx              *sql.Tx
	head, row, tail string // INSERT … VALUES, one row's (?, …), what follows the rows
	cols, rows      int
	stmt            *sql.Stmt // of rows rows, prepared when first full
	args            []any     // the rows queued, cols values each
}

// newBatchInsert returns a batchInsert of rows rows (fewer if SQLite's
// 32,766 parameters of a statement take fewer) of cols values, written
// as head, the rows, then tail.
func newBatchInsert(ctx context.Context, tx *sql.Tx, head string, cols, rows int, tail string) *batchInsert {
	rows = max(1, min(rows, 32766/cols))
	return &batchInsert{ctx: ctx, tx: tx, head: head, tail: tail, cols: cols, rows: rows,
		row:  "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")",
		args: make([]any, 0, rows*cols)}
}

// add queues a row of cols values, and writes the rows queued once there
// are rows of them. The values must stay as they are until written.
func (b *batchInsert) add(vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) < b.rows*b.cols {
		return nil
	}
	return b.write()
}

// queued returns how many rows wait to be written.
func (b *batchInsert) queued() int { return len(b.args) / b.cols }

// write writes the rows queued. When they fail, it finds the row that
// fails alone, if one does, and returns a *rowError naming it.
func (b *batchInsert) write() error {
	n := b.queued()
	if n == 0 {
		return nil
	}
	var err error
	if n == b.rows {
		if b.stmt == nil {
			if b.stmt, err = b.tx.PrepareContext(b.ctx, b.insert(n)); err != nil {
				return err
			}
		}
		_, err = b.stmt.ExecContext(b.ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(b.ctx, b.insert(n), b.args...)
	}
	if err != nil && n > 1 {
		err = b.failingRow(err)
	}
	b.args = b.args[:0]
	return err
}

// rowError is the error of one row of a batch, which failed alone.
type rowError struct {
	vals []any // the row's values
	err  error
}

func (e *rowError) Error() string { return e.err.Error() }
func (e *rowError) Unwrap() error { return e.err }

// failingRow writes the rows queued one at a time, to find the first that
// fails: a statement of many rows fails as a whole, and SQLite's error
// does not say which row (a constraint another program added, a trigger
// of its own). It runs in a savepoint rolled back at the end, so that
// nothing it writes stays: should the failure have ended the transaction
// (RAISE(ROLLBACK), a full disk), the savepoint is a transaction of its
// own, rolled back too. err, the batch's, is returned when no row fails
// alone.
func (b *batchInsert) failingRow(err error) error {
	if _, e := b.tx.ExecContext(b.ctx, `SAVEPOINT planmap_failing_row`); e != nil {
		return err
	}
	found := err
	one := b.insert(1)
	for i := 0; i < b.queued(); i++ {
		vals := b.args[i*b.cols : (i+1)*b.cols]
		if _, e := b.tx.ExecContext(b.ctx, one, vals...); e != nil {
			found = &rowError{vals: vals, err: e}
			break
		}
	}
	_, e := b.tx.ExecContext(b.ctx, `ROLLBACK TO planmap_failing_row`)
	if e == nil {
		_, e = b.tx.ExecContext(b.ctx, `RELEASE planmap_failing_row`)
	}
	if e != nil {
		return errors.Join(found, e)
	}
	return found
}

// insert returns the INSERT of n rows.
func (b *batchInsert) insert(n int) string {
	return b.head + strings.TrimSuffix(strings.Repeat(b.row+", ", n), ", ") + b.tail
}

// close closes the prepared statement; rows still queued are not written.
func (b *batchInsert) close() {
	if b.stmt != nil {
		b.stmt.Close()
		b.stmt = nil
	}
}
