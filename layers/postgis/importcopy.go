package postgis

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"planmap/layers"
)

// copier streams the rows of one plan into one COPY (binary, as pgx
// sends it), run beside the checks: Write hands over rows in batches, and
// PostgreSQL takes them in while the next features are parsed and
// checked. While it runs, the transaction's connection is the COPY's:
// nothing else may use the transaction until finish returns.
type copier struct {
	batches chan [][]any
	done    chan error
	batch   [][]any
	// The batch the COPY is reading, and its row.
	cur [][]any
	i   int
	err error // the COPY's, once done has been read
	end bool  // done has been read
}

// copyBatchRows is how many rows Write hands over at a time, and
// copyQueue how many batches may wait: memory stays bounded, whatever
// the file's size.
const (
	copyBatchRows = 500
	copyQueue     = 8
)

// startCopy begins a COPY of rows into table's columns cols.
func startCopy(ctx context.Context, tx pgx.Tx, table string, cols []string) *copier {
	c := &copier{batches: make(chan [][]any, copyQueue), done: make(chan error, 1), i: -1}
	go func() {
		_, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, c)
		c.done <- err
	}()
	return c
}

// Next, Values and Err make the copier the COPY's pgx.CopyFromSource.
func (c *copier) Next() bool {
	if c.i+1 < len(c.cur) {
		c.i++
		return true
	}
	b, ok := <-c.batches
	if !ok {
		return false
	}
	c.cur, c.i = b, 0
	return true
}

func (c *copier) Values() ([]any, error) { return c.cur[c.i], nil }

func (c *copier) Err() error { return nil }

// add queues row; it returns the COPY's error when it has failed.
func (c *copier) add(row []any) error {
	if c.end {
		return errCopyEnded(c.err)
	}
	c.batch = append(c.batch, row)
	if len(c.batch) < copyBatchRows {
		return nil
	}
	return c.send()
}

func (c *copier) send() error {
	select {
	case c.batches <- c.batch:
		c.batch = make([][]any, 0, copyBatchRows)
		return nil
	case err := <-c.done:
		// The COPY stopped before its rows did: PostgreSQL refused one.
		c.err, c.end = err, true
		return errCopyEnded(err)
	}
}

// finish sends what is queued, ends the COPY and returns its error; the
// transaction is free again. A copier may be finished more than once.
func (c *copier) finish() error {
	if c == nil {
		return nil
	}
	if !c.end {
		if len(c.batch) > 0 {
			c.send()
		}
		if !c.end {
			close(c.batches)
			c.err, c.end = <-c.done, true
		}
	}
	return c.err
}

func errCopyEnded(err error) error {
	if err == nil {
		err = errors.New("the COPY ended early")
	}
	return err
}

// stopCopy finishes the COPY of the plan being written, if one runs: the
// transaction is needed for something else. Stream stops writing a plan
// once a problem is found, and goes on to the next file without End: the
// rows copied so far are rolled back with the import, which fails.
func (im *importer) stopCopy() error {
	err := im.copy.finish()
	im.copy = nil
	return err
}

// fresh reports whether the plan writes a table created in this
// transaction (a new layer, or one rebuilt): no one else sees it before
// the commit, so its rows are copied into it directly, and its GiST
// index and triggers made after them (finishTable). Into a table others
// may hold, rows go through the staging table.
func fresh(pl *layers.Plan) bool { return pl.Stored == nil || pl.Rebuild }

// copyValue is a field's value as the COPY into a fresh table takes it:
// dates, checked and written as the checks (layers.convert) spell them
// (2006-01-02 and 2006-01-02T15:04:05.000Z), as times; what the staging
// table gets as text and the INSERT casts.
func copyValue(fd layers.Field, v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return v, nil
	}
	switch fd.Type {
	case layers.Date:
		return time.Parse(time.DateOnly, s)
	case layers.DateTime:
		return time.Parse(time.RFC3339Nano, s)
	}
	return v, nil
}

// finishTable gives a table filled by COPY (createTable) its GiST index,
// built once over the rows (sorted, far faster than one insertion at a
// time), the triggers every writer meets after the import (every writer
// takes the writers' lock, and every row written is logged), and fresh
// statistics.
func finishTable(ctx context.Context, tx pgx.Tx, id string) error {
	t := quoteIdent(id)
	for _, q := range []string{
		`CREATE INDEX ` + quoteIdent(indexName(id)) + ` ON ` + t + ` USING gist (geom)`,
		`CREATE TRIGGER planmap_write_lock BEFORE INSERT OR UPDATE OR DELETE ON ` + t + ` FOR EACH STATEMENT EXECUTE FUNCTION planmap_write_lock()`,
		`CREATE TRIGGER planmap_changes AFTER INSERT OR UPDATE OR DELETE ON ` + t + ` FOR EACH ROW EXECUTE FUNCTION planmap_log_change()`,
		`ANALYZE ` + t,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}
