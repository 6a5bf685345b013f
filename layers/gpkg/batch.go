package gpkg

import (
	"context"
	"database/sql"
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

// write writes the rows queued.
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
	b.args = b.args[:0]
	return err
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
