package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"planmap/geo"
	"planmap/layers"
)

// The Store is a layers.CopySource and a layers.CopyTarget: planmap copy
// moves a whole database into or out of a GeoPackage file.

// copyNote is the note of the context while a copy is written: nothing
// of a copy is recorded by the triggers (a new layer is loaded without
// them), but should one fire, its row says what wrote it.
const copyNote = "planmap copy"

// History calls fn with each row of layer id's history, in id order (the
// order of the events), each with the declaration of its life: id may be
// a layer dropped since, and a layer there now may have had earlier
// lives with other fields. A version's state is decoded as Versions
// decodes it; the current version of a live feature has none (the live
// row is its state).
func (s *Store) History(ctx context.Context, id string, fn func(layers.HistoryRow) error) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	live, events, err := layerLives(ctx, tx, id)
	if err != nil {
		return err
	}
	lives, err := layers.NewLives(id, live, events)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, fid, op, at, author, note, geom, properties
		FROM planmap_history WHERE layer = ? ORDER BY id`, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var h layers.HistoryRow
		var row int64
		var op, at string
		var author, note, props sql.NullString
		var geom []byte
		if err := rows.Scan(&row, &h.FID, &op, &at, &author, &note, &geom, &props); err != nil {
			return err
		}
		h.Op, h.Author, h.Note = layers.Op(op), author.String, note.String
		if h.At, err = parseTime(at); err != nil {
			return fmt.Errorf("history of %s %d: %w", id, h.FID, err)
		}
		if h.Life, err = lives.Of(row); err != nil {
			return err
		}
		l := live
		if h.Life != nil {
			l = h.Life
		}
		if h.FID <= 0 && props.Valid {
			h.Declaration = []byte(props.String)
		}
		if geom != nil && h.FID > 0 && h.Op != layers.OpDelete {
			f, err := decodeState(l, h.FID, geom, props.String)
			if err != nil {
				return fmt.Errorf("history of %s %d: %w", id, h.FID, err)
			}
			h.State = &f
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
	return droppedLayers(ctx, s.read)
}

func droppedLayers(ctx context.Context, q querier) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT layer FROM planmap_history
		WHERE layer NOT IN (SELECT id FROM planmap_layers)
		GROUP BY layer HAVING max(fid = 0 AND properties IS NOT NULL) ORDER BY min(id)`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// LastFID returns the highest feature id layer id ever used: what its
// AUTOINCREMENT remembers, its table's or its history's.
func (s *Store) LastFID(ctx context.Context, id string) (int64, error) {
	last, err := lastFID(ctx, s.read, id)
	if err != nil {
		return 0, err
	}
	var hist int64
	err = s.read.QueryRowContext(ctx, `SELECT coalesce(max(fid), 0) FROM planmap_history WHERE layer = ?`, id).Scan(&hist)
	return max(last, hist), err
}

// LastChange returns the highest seq the change log ever gave out.
func (s *Store) LastChange(ctx context.Context) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT max(coalesce((SELECT max(seq) FROM planmap_changes), 0),
		coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'planmap_changes'), 0))`).Scan(&n)
	return n, err
}

// TokenRecords returns every token with its hash, revoked ones too, in
// the order they were added.
func (s *Store) TokenRecords(ctx context.Context) ([]layers.TokenRecord, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT name, hash, role, layers, strftime('%Y-%m-%dT%H:%M:%fZ', created),
		coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', revoked), '') FROM planmap_tokens ORDER BY id`)
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

// CopyIn writes a copy in one transaction of the writer, refusing a
// database that has a layer or a token already (ECONFLICT).
func (s *Store) CopyIn(ctx context.Context, fn func(layers.CopyWriter) error) error {
	w, err := s.writer()
	if err != nil {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var nl, nt int
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM planmap_layers), (SELECT count(*) FROM planmap_tokens)`).Scan(&nl, &nt); err != nil {
		return err
	}
	if nl > 0 || nt > 0 {
		return layers.Errorf(layers.ECONFLICT, "%s holds %d layers and %d tokens already; planmap copy writes only into an empty database", s.path, nl, nt)
	}
	first, err := setContext(ctx, tx, "", copyNote)
	if err != nil {
		return err
	}
	if err := fn(&copyWriter{tx: tx, layers: map[string]*layers.Layer{}}); err != nil {
		return err
	}
	if err := clearContext(ctx, tx, first); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.follow.AfterWrite(ctx, "after a copy")
	return nil
}

// copyWriter is the layers.CopyWriter of CopyIn.
type copyWriter struct {
	tx     *sql.Tx
	layers map[string]*layers.Layer
	blob   []byte
}

func (w *copyWriter) ChangesAfter(ctx context.Context, seq int64) error {
	if seq <= 0 {
		return nil
	}
	// AUTOINCREMENT goes on after the highest seq sqlite_sequence holds.
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM sqlite_sequence WHERE name = 'planmap_changes'`); err != nil {
		return err
	}
	_, err := w.tx.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq)
		VALUES ('planmap_changes', max(?, coalesce((SELECT max(seq) FROM planmap_changes), 0)))`, seq)
	return err
}

// Layer writes the layer through the importer of a new layer (its table,
// R-tree, GeoPackage registration, change-log row and triggers), then
// drops the history row the import wrote: the source's history follows.
func (w *copyWriter) Layer(ctx context.Context, l *layers.Layer, features func(func(layers.Feature) error) error) (int, error) {
	im := &importer{tx: w.tx}
	defer im.close()
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
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM planmap_history WHERE layer = ?`, l.ID); err != nil {
		return 0, err
	}
	w.layers[l.ID] = l
	return im.results[0].Written, nil
}

func (w *copyWriter) History(ctx context.Context, id string, h layers.HistoryRow) error {
	// The state's fields are its life's, which a layer dropped since has
	// alone.
	l := h.Life
	if l == nil {
		l = w.layers[id]
	}
	if l == nil && h.State != nil {
		return fmt.Errorf("history of %s: feature %d has a state but no declaration to keep it by", id, h.FID)
	}
	var geom, props any
	if h.Declaration != nil {
		props = string(h.Declaration)
	}
	if h.State != nil {
		blob, err := geo.AppendGPKG(w.blob[:0], h.State.Geometry, SRSID)
		if err != nil {
			return fmt.Errorf("feature %d: %w", h.FID, err)
		}
		w.blob, geom = blob, blob
		// As the triggers' json_object of the columns: every column,
		// NULL for an absent property, a boolean as SQLite keeps it.
		m := make(map[string]any, len(l.Schema))
		for _, fd := range l.Schema {
			v := h.State.Properties[fd.Name]
			if b, ok := v.(bool); ok {
				v = map[bool]int{false: 0, true: 1}[b]
			}
			m[fd.Name] = v
		}
		js, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("feature %d: %w", h.FID, err)
		}
		props = string(js)
	}
	_, err := w.tx.ExecContext(ctx, `INSERT INTO planmap_history (layer, fid, op, at, author, note, geom, properties)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, h.FID, string(h.Op), historyTime(h.At), nullString(h.Author), nullString(h.Note), geom, props)
	return err
}

// DroppedLayer writes the history of dropped layer id in place of the
// target's. Its ids stay retired without more: DeclareLayer gives out ids
// after every id the history of the layer holds.
func (w *copyWriter) DroppedLayer(ctx context.Context, id string, rows func(func(layers.HistoryRow) error) error) (int, error) {
	if _, err := w.tx.ExecContext(ctx, `DELETE FROM planmap_history WHERE layer = ?`, id); err != nil {
		return 0, err
	}
	n := 0
	err := rows(func(h layers.HistoryRow) error {
		n++
		return w.History(ctx, id, h)
	})
	return n, err
}

// EndLayer sets the layer's AUTOINCREMENT past lastFID, and leaves the
// current version of each live feature without a state in its history
// row, as the triggers do (the live row is its state, copied into the
// row when the version ends).
func (w *copyWriter) EndLayer(ctx context.Context, id string, lastFID int64) error {
	qt := quoteIdent(id)
	if _, err := w.tx.ExecContext(ctx, `UPDATE planmap_history SET geom = NULL, properties = NULL
		WHERE id IN (SELECT (SELECT max(h.id) FROM planmap_history h WHERE h.layer = ? AND h.fid = f.fid) FROM `+qt+` f)
		AND id > coalesce((SELECT max(id) FROM planmap_history WHERE layer = ? AND fid = 0), 0)`, id, id); err != nil {
		return err
	}
	return setLastFID(ctx, w.tx, id, lastFID)
}

func (w *copyWriter) Token(ctx context.Context, t layers.TokenRecord) error {
	ids, err := json.Marshal(append([]string{}, t.Layers...))
	if err != nil {
		return err
	}
	var revoked any
	if !t.Revoked.IsZero() {
		revoked = historyTime(t.Revoked)
	}
	_, err = w.tx.ExecContext(ctx, `INSERT INTO planmap_tokens (name, hash, role, layers, created, revoked) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Name, t.Hash, string(t.Role), string(ids), historyTime(t.Created), revoked)
	return err
}
