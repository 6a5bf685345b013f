package postgis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"planmap/layers"
)

// A query with boxes whose answer is small (the map's: the features in
// view) is answered in one statement: every candidate the GiST index
// gives, whole, decided in Go by the one bbox rule (Filter.MatchesGeometry)
// and paged there. One statement is one snapshot, so it needs no
// transaction: one round trip where the general path (query.go) takes
// five (BEGIN, the candidates, the geometries of those crossing a box's
// edge, the page's rows, the end), each a pair of system calls and a
// wake-up on both sides, which were most of the CPU such a request cost.
// A box that turns out to hold more than smallAnswer candidates falls
// back to the general path, after one statement read at most
// smallAnswer+1 rows; whether to try is guessed from the share of the
// layer's extent the boxes cover.

// smallAnswer is the most candidates the one-statement path reads. A
// variable for the tests and benchmarks, which compare the two paths.
var smallAnswer atomic.Int64

func init() { smallAnswer.Store(2000) }

// errTooMany stops the one-statement path at smallAnswer+1 candidates.
var errTooMany = errors.New("more candidates than a small answer")

// likelySmall guesses whether f's boxes hold at most half of smallAnswer
// features of col, as if they were spread evenly over its extent.
func likelySmall(col *layers.Collection, f layers.Filter) bool {
	most := smallAnswer.Load()
	if len(f.BBoxes) == 0 || most <= 0 {
		return false
	}
	if int64(col.Count) <= most {
		return true
	}
	var expected float64
	for _, b := range f.BBoxes {
		expected += col.Expected(b)
	}
	return expected <= float64(most)/2
}

// smallBBox reads the candidates of f's boxes (and its property values)
// of layer l in one statement, with the columns of read (l itself, or l
// without its fields: fid and geometry alone), and calls keep with each
// that f's boxes select, in no order. It returns false, having kept some,
// when there are more than smallAnswer candidates.
func smallBBox(ctx context.Context, q querier, l, read *layers.Layer, f layers.Filter, keep func(layers.Feature)) (bool, error) {
	where, args := equalsWhere(l, f, 1)
	boxes := make([]string, 0, len(f.BBoxes))
	for _, b := range f.BBoxes {
		n := len(args)
		boxes = append(boxes, fmt.Sprintf("geom && ST_MakeEnvelope($%d, $%d, $%d, $%d, %d)", n+1, n+2, n+3, n+4, SRID))
		args = append(args, b.Min[0], b.Min[1], b.Max[0], b.Max[1])
	}
	sql := selectColumns(read) + " WHERE (" + strings.Join(boxes, " OR ") + ")"
	if where != "" {
		sql += " AND " + where
	}
	most := smallAnswer.Load()
	sql += fmt.Sprintf(" LIMIT %d", most+1)
	// The property values were compared by the statement, as the general
	// path compares them; only the boxes are left to decide.
	boxesOnly := layers.Filter{BBoxes: f.BBoxes}
	var n int64
	err := eachRow(ctx, q, read, sql, args, func(ft layers.Feature) error {
		if n++; n > most {
			return errTooMany
		}
		if boxesOnly.MatchesGeometry(ft.Geometry, ft.Geometry.Bound()) {
			keep(ft)
		}
		return nil
	})
	if errors.Is(err, errTooMany) {
		return false, nil
	}
	return err == nil, err
}

// itemsSmall is Items by smallBBox; ok is false when the answer was not
// small.
func (s *Store) itemsSmall(ctx context.Context, l *layers.Layer, f layers.Filter, p layers.Page) (items []*layers.Item, matched int, ok bool, err error) {
	err = s.read(ctx, func(q querier) error {
		byID := map[int64]layers.Feature{}
		ids := []int64{}
		ok, err = smallBBox(ctx, q, l, l, f, func(ft layers.Feature) {
			byID[ft.ID] = ft
			ids = append(ids, ft.ID)
		})
		if !ok || err != nil {
			return err
		}
		var page []int64
		page, matched = layers.PageOf(ids, p)
		items = make([]*layers.Item, len(page))
		for i, fid := range page {
			items[i] = layers.NewItem(l, byID[fid])
		}
		return nil
	})
	return items, matched, ok, err
}

// selectSmall is Select by smallBBox, reading the geometry alone; ok is
// false when the answer was not small.
func (s *Store) selectSmall(ctx context.Context, l *layers.Layer, f layers.Filter, p layers.Page) (fids []int64, matched int, ok bool, err error) {
	bare := &layers.Layer{ID: l.ID}
	err = s.read(ctx, func(q querier) error {
		ids := []int64{}
		ok, err = smallBBox(ctx, q, l, bare, f, func(ft layers.Feature) { ids = append(ids, ft.ID) })
		if !ok || err != nil {
			return err
		}
		fids, matched = layers.PageOf(ids, p)
		return nil
	})
	return fids, matched, ok, err
}
