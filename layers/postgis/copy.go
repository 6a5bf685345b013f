package postgis

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/encoding/wkb"

	"planmap/layers"
)

// The Store is a layers.CopySource and a layers.CopyTarget: planmap copy
// moves a whole database into or out of PostgreSQL.

// History calls fn with each row of layer id's history, in id order (the
// order of the events), each with the declaration of its life: id may be
// a layer dropped since, and a layer there now may have had earlier lives
// with other fields. A state of the layer there now is read through its
// row type as Versions reads it, one of an ended life as eachPast reads
// it.
func (s *Store) History(ctx context.Context, id string, fn func(layers.HistoryRow) error) error {
	tx, err := s.readOnly(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return history(ctx, tx, id, fn)
}

// history is History of layer id read through q: the rows written under
// each declaration (each life, and each declaration a life had before
// a redeclaration) in one query each, typed by it.
func history(ctx context.Context, q querier, id string, fn func(layers.HistoryRow) error) error {
	live, events, err := layerLives(ctx, q, id)
	if err != nil {
		return err
	}
	lives, err := layers.NewLives(id, live, events)
	if err != nil {
		return err
	}
	ends, decls := lives.Ends()
	from := int64(0)
	for i, end := range ends {
		if err := historyOf(ctx, q, id, decls[i], true, from, end, fn); err != nil {
			return err
		}
		from = end
	}
	if live != nil {
		return historyOf(ctx, q, id, live, false, from, math.MaxInt64, fn)
	}
	// Rows after the last drop of a layer not there now belong to no
	// life: Of says so of the first.
	var after *int64
	if err := q.QueryRow(ctx, `SELECT min(id) FROM planmap_history WHERE layer = $1 AND id > $2`, id, from).Scan(&after); err != nil {
		return err
	}
	if after != nil {
		_, err := lives.Of(*after)
		return err
	}
	return nil
}

// historyOf calls fn with the rows of layer id's history with an id in
// (from, to], written under declaration l: one that ended when ended (a
// life dropped since, or a declaration changed since: its states read
// through a record of its declaration, whose columns its table may no
// longer have), else the layer there now (read through its table's row
// type).
func historyOf(ctx context.Context, q querier, id string, l *layers.Layer, ended bool, from, to int64, fn func(layers.HistoryRow) error) error {
	cols := []string{"h.fid", "ST_AsBinary(h.geom)"}
	for _, fd := range l.Schema {
		cols = append(cols, columnOf("r", fd))
	}
	// A drop's or a redeclaration's row (fid 0 or layers.RedeclaredFID)
	// keeps a declaration, no feature's state: it is read as text, never
	// as a record.
	cols = append(cols, "h.op", "h.at", "h.author", "h.note", "CASE WHEN h.fid <= 0 THEN h.properties::text END")
	state := "CASE WHEN h.fid > 0 THEN h.properties END"
	record := `
		LEFT JOIN LATERAL jsonb_populate_record(NULL::` + quoteIdent(l.ID) + `, ` + state + `) r ON true`
	if ended {
		record = pastRecord(l, state)
	}
	rows, err := q.Query(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM planmap_history h`+record+`
		WHERE h.layer = $1 AND h.id > $2 AND h.id <= $3 ORDER BY h.id`, id, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 2 + len(l.Schema)
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return err
		}
		var h layers.HistoryRow
		h.FID, _ = vals[0].(int64)
		op, _ := vals[n].(string)
		h.Op = layers.Op(op)
		at, _ := vals[n+1].(time.Time)
		h.At = at.UTC()
		h.Author, _ = vals[n+2].(string)
		h.Note, _ = vals[n+3].(string)
		if decl, ok := vals[n+4].(string); ok {
			h.Declaration = []byte(decl)
		}
		if rows.RawValues()[1] != nil && h.FID > 0 && h.Op != layers.OpDelete {
			f, err := decodeRow(l, rows)
			if err != nil {
				return fmt.Errorf("history of %s %d: %w", id, h.FID, err)
			}
			h.State = &f
		}
		if ended {
			h.Life = l
		}
		if err := fn(h); err != nil {
			return err
		}
	}
	return rows.Err()
}

// DroppedLayers returns the ids of the layers not there now whose history
// has a drop that kept the declaration, in the order of their first rows.
func (s *Store) DroppedLayers(ctx context.Context) ([]string, error) {
	return droppedLayers(ctx, s.pool)
}

func droppedLayers(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.Query(ctx, `SELECT layer FROM planmap_history
		WHERE layer NOT IN (SELECT id FROM planmap_layers)
		GROUP BY layer HAVING bool_or(fid = 0 AND properties IS NOT NULL) ORDER BY min(id)`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// LastFID returns the highest feature id layer id ever used: its table's
// or a retired one's.
func (s *Store) LastFID(ctx context.Context, id string) (int64, error) {
	return lastFIDEver(ctx, s.pool, id)
}

// lastFIDEver is LastFID read through q.
func lastFIDEver(ctx context.Context, q querier, id string) (int64, error) {
	var top int64
	err := q.QueryRow(ctx, `SELECT greatest((SELECT coalesce(max(fid), 0) FROM `+quoteIdent(id)+`),
		(SELECT coalesce(max(fid), 0) FROM planmap_retired WHERE layer = $1),
		(SELECT coalesce(max(fid), 0) FROM planmap_history WHERE layer = $1))`, id).Scan(&top)
	return top, err
}

// LastChange returns the highest seq the change log gave out.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	return lastChange(ctx, s.pool)
}

// lastChange is LastChange read through q.
func lastChange(ctx context.Context, q querier) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, `SELECT greatest((SELECT coalesce(max(seq), 0) FROM planmap_changes),
		coalesce(pg_sequence_last_value(pg_get_serial_sequence('planmap_changes', 'seq')::regclass), 0))`).Scan(&n)
	return n, err
}

// TokenRecords returns every token with its hash, revoked ones too, in
// the order they were added.
func (s *Store) TokenRecords(ctx context.Context) ([]layers.TokenRecord, error) {
	return tokenRecords(ctx, s.pool)
}

// tokenRecords is TokenRecords read through q.
func tokenRecords(ctx context.Context, q querier) ([]layers.TokenRecord, error) {
	rows, err := q.Query(ctx, `SELECT name, hash, role, layers, created, revoked FROM planmap_tokens ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []layers.TokenRecord
	for rows.Next() {
		var t layers.TokenRecord
		var err error
		if t.Token, err = scanToken(rows, &t.Hash); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CopyIn writes a copy in one transaction, holding the writers' lock,
// refusing a database that has a layer or a token already (ECONFLICT).
func (s *Store) CopyIn(ctx context.Context, fn func(layers.CopyWriter) error) error {
	tx, err := s.beginWriting(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var nl, nt int
	if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM planmap_layers), (SELECT count(*) FROM planmap_tokens)`).Scan(&nl, &nt); err != nil {
		return err
	}
	if nl > 0 || nt > 0 {
		return layers.Errorf(layers.ECONFLICT, "the database holds %d layers and %d tokens already; planmap copy writes only into an empty database", nl, nt)
	}
	if err := setContext(ctx, tx, layers.Edit{Note: "planmap copy"}); err != nil {
		return err
	}
	if err := fn(&copyWriter{tx: tx, layers: map[string]*layers.Layer{}}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	s.follow.AfterWrite(ctx, "after a copy")
	return nil
}

// copyWriter is the layers.CopyWriter of CopyIn.
type copyWriter struct {
	tx     pgx.Tx
	layers map[string]*layers.Layer
}

func (w *copyWriter) ChangesAfter(ctx context.Context, seq int64) error {
	if seq <= 0 {
		return nil
	}
	_, err := w.tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('planmap_changes', 'seq'),
		greatest($1::bigint, (SELECT coalesce(max(seq), 0) FROM planmap_changes)))`, seq)
	return err
}

// Layer writes the layer through the importer of a new layer (its
// table, index, triggers, COPY of the features, change-log row), with
// planmap.bulk on so that the trigger records no version per feature, then
// drops the history row the import wrote: the source's history follows.
func (w *copyWriter) Layer(ctx context.Context, l *layers.Layer, features func(func(layers.Feature) error) error) (int, error) {
	im := &importer{tx: w.tx}
	// A source that fails half-way leaves the COPY open: it ends before
	// CopyIn rolls the transaction back on the same connection.
	defer im.stopCopy()
	pl := &layers.Plan{File: &layers.File{Name: "layer " + l.ID, LayerID: l.ID, Layer: l}, Layer: l}
	if err := im.Begin(ctx, pl); err != nil {
		return 0, err
	}
	if err := features(func(f layers.Feature) error {
		if f.ID <= 0 {
			return fmt.Errorf("feature without an id")
		}
		return im.Write(ctx, pl, f)
	}); err != nil {
		return 0, err
	}
	if err := im.End(ctx, pl); err != nil {
		return 0, err
	}
	if _, err := w.tx.Exec(ctx, `DELETE FROM planmap_history WHERE layer = $1`, l.ID); err != nil {
		return 0, err
	}
	w.layers[l.ID] = l
	return im.results[0].Written, nil
}

func (w *copyWriter) History(ctx context.Context, id string, h layers.HistoryRow) error {
	l := w.layers[id]
	if l == nil && h.Life == nil && h.State != nil {
		return fmt.Errorf("history of %s: feature %d has a state but no declaration to keep it by", id, h.FID)
	}
	author, note := nullIfEmpty(h.Author), nullIfEmpty(h.Note)
	if h.State == nil {
		var decl any
		if h.Declaration != nil {
			decl = string(h.Declaration)
		}
		_, err := w.tx.Exec(ctx, `INSERT INTO planmap_history (layer, fid, op, at, author, note, properties) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`,
			id, h.FID, string(h.Op), h.At, author, note, decl)
		return err
	}
	blob, err := wkb.Marshal(h.State.Geometry)
	if err != nil {
		return fmt.Errorf("feature %d: %w", h.FID, err)
	}
	decl := l
	if h.Life != nil {
		decl = h.Life
	}
	m := make(map[string]any, len(decl.Schema))
	for _, fd := range decl.Schema {
		m[fd.Name] = h.State.Properties[fd.Name]
	}
	props, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("feature %d: %w", h.FID, err)
	}
	// The properties typed as the trigger's to_jsonb of the row had
	// them, each value as its column: through the table's row type, or,
	// for an ended life, whose table is gone, through a record of its
	// declaration's columns, as eachPast reads them back.
	typed := fmt.Sprintf(`to_jsonb(jsonb_populate_record(NULL::%s, $8::jsonb)) - 'fid' - 'geom'`, quoteIdent(id))
	switch {
	case h.Life != nil && len(h.Life.Schema) == 0:
		// $8 is still typed: a parameter no statement names has none.
		typed = `(SELECT '{}'::jsonb WHERE $8::jsonb IS NOT NULL)`
	case h.Life != nil:
		typed = `(SELECT to_jsonb(r) FROM (SELECT 1) one` + pastRecord(h.Life, "$8::jsonb") + `)`
	}
	_, err = w.tx.Exec(ctx, fmt.Sprintf(`INSERT INTO planmap_history (layer, fid, op, at, author, note, geom, properties)
		VALUES ($1, $2, $3, $4, $5, $6, ST_SetSRID(ST_GeomFromWKB($7), %d), %s)`, SRID, typed),
		id, h.FID, string(h.Op), h.At, author, note, blob, string(props))
	return err
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// DroppedLayer writes the history of dropped layer id in place of the
// target's, and retires every id it holds (planmap_retired), as the
// delete triggers retired them when the layer was dropped: a layer of
// that id created later goes on after them.
func (w *copyWriter) DroppedLayer(ctx context.Context, id string, rows func(func(layers.HistoryRow) error) error) (int, error) {
	if _, err := w.tx.Exec(ctx, `DELETE FROM planmap_history WHERE layer = $1`, id); err != nil {
		return 0, err
	}
	n := 0
	err := rows(func(h layers.HistoryRow) error {
		n++
		return w.History(ctx, id, h)
	})
	if err != nil {
		return n, err
	}
	_, err = w.tx.Exec(ctx, `INSERT INTO planmap_retired (layer, fid)
		SELECT DISTINCT $1::text, fid FROM planmap_history WHERE layer = $1 AND fid > 0 ON CONFLICT DO NOTHING`, id)
	return n, err
}

// EndLayer gives the current version of each live feature the state the
// trigger would have given its row (the live row's), retires every id of
// the history the layer no longer has, and lastFID too if it is above
// every id the layer knows, so that planmap_next_fid goes on after it.
func (w *copyWriter) EndLayer(ctx context.Context, id string, last int64) error {
	t := quoteIdent(id)
	if _, err := w.tx.Exec(ctx, `UPDATE planmap_history h SET geom = f.geom, properties = to_jsonb(f) - 'fid' - 'geom'
		FROM `+t+` f WHERE h.layer = $1 AND h.fid = f.fid AND h.geom IS NULL AND h.op <> 'delete'
		AND h.id = (SELECT max(id) FROM planmap_history WHERE layer = $1 AND fid = f.fid)
		AND h.id > coalesce((SELECT max(id) FROM planmap_history WHERE layer = $1 AND fid = 0), 0)`, id); err != nil {
		return err
	}
	if _, err := w.tx.Exec(ctx, `INSERT INTO planmap_retired (layer, fid)
		SELECT DISTINCT $1::text, h.fid FROM planmap_history h WHERE h.layer = $1 AND h.fid > 0
		AND NOT EXISTS (SELECT 1 FROM `+t+` f WHERE f.fid = h.fid) ON CONFLICT DO NOTHING`, id); err != nil {
		return err
	}
	top, err := lastFID(ctx, w.tx, id)
	if err != nil {
		return err
	}
	if last > top {
		_, err = w.tx.Exec(ctx, `INSERT INTO planmap_retired (layer, fid) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, last)
	}
	return err
}

func (w *copyWriter) Token(ctx context.Context, t layers.TokenRecord) error {
	var revoked any
	if !t.Revoked.IsZero() {
		revoked = t.Revoked
	}
	_, err := w.tx.Exec(ctx, `INSERT INTO planmap_tokens (name, hash, role, layers, created, revoked) VALUES ($1, $2, $3, $4, $5, $6)`,
		t.Name, t.Hash, string(t.Role), append([]string{}, t.Layers...), t.Created, revoked)
	return err
}
