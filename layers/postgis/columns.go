package postgis

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"planmap/layers"
)

// QGIS's PostGIS provider adds a field with ALTER TABLE … ADD COLUMN, and
// psql may drop one. The declaration follows (layers.FollowColumns, as in
// the GeoPackage store). A DDL statement writes nothing to the change log,
// so the store looks when it takes in changes another program made
// (filling the new field is one): reading the columns of the layers'
// tables costs about 1.5 ms with the 13 seed layers, twenty times the
// log's lookup, too much for every edit of planmap's own. A change of
// columns alone, with no edit after it, is found by looking every
// columnsLook: reads of a layer whose declared column psql dropped fail
// until then.

// columnsLook is how often the refresh step looks at the tables' columns
// when no change another program made has asked it to. (A variable for
// the tests.)
var columnsLook atomic.Int64

func init() { columnsLook.Store(int64(5 * time.Second)) }

// typeModifier is the (n) or (p,s) of a type as format_type spells it.
var typeModifier = regexp.MustCompile(`\([0-9, ]*\)`)

// pgFieldType maps a PostgreSQL column type, as format_type gives it, to
// a field type: the types sqlTypes creates and those QGIS does (integer,
// character varying(n), timestamp without time zone, …). numeric, which
// pgx reads as a decimal that is no property value, has none, nor do
// others; ok is false then.
func pgFieldType(typ string) (t layers.FieldType, ok bool) {
	switch strings.TrimSpace(typeModifier.ReplaceAllString(typ, "")) {
	case "text", "character varying", "character":
		return layers.String, true
	case "smallint", "integer", "bigint":
		return layers.Integer, true
	case "real", "double precision":
		return layers.Number, true
	case "boolean":
		return layers.Boolean, true
	case "date":
		return layers.Date, true
	case "timestamp with time zone", "timestamp without time zone":
		return layers.DateTime, true
	}
	return "", false
}

// tableColumns returns the attribute columns (all but fid and geom) of
// the tables of the layers, by layer id, and a signature of each layer's
// columns; a layer whose table is gone has none.
func tableColumns(ctx context.Context, q querier) (map[string][]layers.Column, map[string]string, error) {
	rows, err := q.Query(ctx, `SELECT l.id, a.attname, format_type(a.atttypid, a.atttypmod)
		FROM planmap_layers l
		JOIN pg_attribute a ON a.attrelid = to_regclass(quote_ident(l.id)) AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY l.id, a.attnum`)
	if err != nil {
		return nil, nil, fmt.Errorf("columns of the layers: %w", err)
	}
	defer rows.Close()
	cols := map[string][]layers.Column{}
	sigs := map[string]string{}
	for rows.Next() {
		var id, name, typ string
		if err := rows.Scan(&id, &name, &typ); err != nil {
			return nil, nil, err
		}
		sigs[id] += name + " " + typ + ","
		if _, ok := cols[id]; !ok {
			cols[id] = []layers.Column{}
		}
		if name == "fid" || name == "geom" {
			continue
		}
		c := layers.Column{Name: name}
		if ft, ok := pgFieldType(typ); ok {
			c.Type = ft
		} else {
			c.NoType = fmt.Sprintf("has type %s, which planmap does not read (text, character varying, smallint, integer, bigint, real, double precision, boolean, date, timestamp)", typ)
		}
		cols[id] = append(cols[id], c)
	}
	return cols, sigs, rows.Err()
}

// followColumns gives the layers of cat whose tables' columns changed
// since it last looked the declarations that follow them, when a change
// after cat up to last was made by another program or columnsLook has
// passed since it last looked: in one transaction of the writers (so that
// peers make each change once), each logged as a change of the layer, and
// reported. looked says whether it looked at the columns (err is then of
// that look).
func (s *Store) followColumns(ctx context.Context, cat *layers.Catalog, last int64) (looked bool, err error) {
	if time.Since(s.columnsLooked) < time.Duration(columnsLook.Load()) {
		if last == cat.Seq {
			return false, nil
		}
		var direct bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM planmap_changes WHERE seq > $1 AND seq <= $2 AND NOT checked)`, cat.Seq, last).Scan(&direct); err != nil {
			return false, fmt.Errorf("change log: %w", err)
		}
		if !direct {
			return false, nil
		}
	}
	s.columnsLooked = time.Now()
	cols, sigs, err := tableColumns(ctx, s.pool)
	if err != nil {
		return true, err
	}
	if s.columnsSeen == nil {
		s.columnsSeen = map[string]string{}
	}
	var drifted []string
	for _, col := range cat.Collections {
		cs, exists := cols[col.ID]
		if !exists || s.columnsSeen[col.ID] == sigs[col.ID] {
			continue
		}
		_, ch := layers.FollowColumns(col.Layer, cs)
		if ch.Changed() {
			drifted = append(drifted, col.ID)
			continue
		}
		// Seen now, so that what is left out is said once, even while
		// another layer's change fails to be made.
		s.columnsSeen[col.ID] = sigs[col.ID]
		if len(ch.Left) > 0 {
			s.follow.Report(errors.New(ch.String()))
		}
	}
	if len(drifted) == 0 {
		s.columnsSeen = sigs
		return true, nil
	}
	return true, s.followDrifted(ctx, drifted)
}

// followDrifted makes the declarations of the layers drifted follow their
// tables' columns, under the writers' lock.
func (s *Store) followDrifted(ctx context.Context, drifted []string) error {
	tx, err := s.beginWriting(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	// Again, under the lock: a peer may have made the change.
	cols, sigs, err := tableColumns(ctx, tx)
	if err != nil {
		return err
	}
	var followed []layers.ColumnChanges
	for _, id := range drifted {
		cs, exists := cols[id]
		if !exists {
			continue
		}
		l, err := getLayer(ctx, tx, id)
		if err != nil {
			return err
		}
		next, ch := layers.FollowColumns(l, cs)
		if !ch.Changed() {
			continue
		}
		if err := saveLayer(ctx, tx, next, l); err != nil {
			return err
		}
		// The layer is read again whole (its features' JSON changes
		// with their fields). A change of the declaration alone begins
		// no version of the features: its history row (fid
		// layers.RedeclaredFID) is not a bulk write's, which would hide
		// every version before it from as-of reads.
		if err := logLayer(ctx, tx, id); err != nil {
			return err
		}
		followed = append(followed, ch)
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	s.columnsSeen = sigs
	for _, ch := range followed {
		s.follow.Report(errors.New(ch.String()))
	}
	return nil
}
