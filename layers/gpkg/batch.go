package gpkg

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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

// write writes the rows queued. When they break a constraint, it looks
// for the row that does (failingRow).
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

// rowError is the error of one row of a batch.
type rowError struct {
	first any // the row's first value: an import's is the feature's id
	err   error
}

func (e *rowError) Error() string { return e.err.Error() }
func (e *rowError) Unwrap() error { return e.err }

// failingRow looks for the row that a batch's failure err is of, when err
// is a constraint failing (a unique index or a trigger another program
// added): a statement of many rows fails as a whole, and SQLite does not
// say which row. It writes the rows queued again, one at a time, and
// returns a *rowError for the first that fails as the batch did: the row
// that breaks the constraint, or of two that break it together, the
// second. Nothing it writes stays: it runs in a savepoint rolled back at
// the end. It does not look when the failure ended the transaction
// (RAISE(ROLLBACK)): the rows would be written against the database as it
// was before, without the write lock. Otherwise, or when no row fails
// alike, it returns err.
func (b *batchInsert) failingRow(err error) error {
	var batch *sqlite.Error
	if !errors.As(err, &batch) || batch.Code()&0xff != sqlite3.SQLITE_CONSTRAINT {
		return err
	}
	// BEGIN fails inside a transaction; should it begin one, there was
	// none left.
	if _, e := b.tx.ExecContext(b.ctx, `BEGIN`); e == nil {
		b.tx.ExecContext(b.ctx, `ROLLBACK`)
		return err
	}
	if _, e := b.tx.ExecContext(b.ctx, `SAVEPOINT planmap_failing_row`); e != nil {
		return err
	}
	found := err
	one := b.insert(1)
	for i := range b.queued() {
		vals := b.args[i*b.cols : (i+1)*b.cols]
		_, e := b.tx.ExecContext(b.ctx, one, vals...)
		if e == nil {
			continue
		}
		var row *sqlite.Error
		if errors.As(e, &row) && row.Code() == batch.Code() {
			found = &rowError{first: vals[0], err: e}
		}
		break
	}
	// Should this fail, the savepoint's writes go with the transaction,
	// which the error returned ends.
	if _, e := b.tx.ExecContext(b.ctx, `ROLLBACK TO planmap_failing_row`); e == nil {
		b.tx.ExecContext(b.ctx, `RELEASE planmap_failing_row`)
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
