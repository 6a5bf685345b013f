package gpkg

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"sync/atomic"

	"planmap/geo"
	"planmap/layers"
)

// A page of a box whose answer is small (the map's view, a street's
// parcels) is read in one statement: the rows of every candidate the
// R-tree gives, joined by rowid, each decided in Go by the one bbox rule
// (Filter.MatchesGeometry, on the geometry it has to decode for the item
// anyway) and paged there. The general path (query.go) takes three: the
// R-tree's hits with their boxes, the geometries of those crossing an
// edge, then the page's rows; each is a statement to step and a set of
// rows to box value by value, for the same rows. A box that turns out to
// hold more than smallAnswer candidates (the R-tree's hits, whatever the
// property values) falls back to the general path, after one statement
// read at most smallAnswer+1 of them and their rows; whether to try is
// guessed from the share of the layer's extent the box covers, as the
// PostGIS store does (layers/postgis/small.go).

// smallAnswer is the most candidates the one-statement path reads. A
// variable for the tests and benchmarks, which compare the two paths.
var smallAnswer atomic.Int64

func init() { smallAnswer.Store(2000) }

// errTooMany stops the one-statement path at smallAnswer+1 candidates.
var errTooMany = errors.New("more candidates than a small answer")

// likelySmall guesses whether the page p of what f selects of col is
// best read in one statement: f has one box, which holds at most half of
// smallAnswer features were they spread evenly over the layer's extent,
// and not many more than the page takes, since every match is encoded.
func likelySmall(col *layers.Collection, f layers.Filter, p layers.Page) bool {
	most := smallAnswer.Load()
	if len(f.BBoxes) != 1 || most <= 0 || p.Limit <= 0 {
		return false
	}
	e := min(float64(col.Count), col.Expected(f.BBoxes[0]))
	return e <= float64(most)/2 && e <= 2*float64(p.Offset+p.Limit)+16
}

// ItemsHolding is Items for a cache that holds some of the features:
// held returns its item of feature fid, or nil, and a row of a feature it
// holds is used to decide whether the feature matches, but not encoded
// again; its item takes its place. It answers only a page of a small box
// (see above); ok is false when it did not, and the caller selects the
// ids instead (Select), to load those it lacks.
func (s *Store) ItemsHolding(ctx context.Context, id string, f layers.Filter, p layers.Page, held func(fid int64) *layers.Item) (items []*layers.Item, matched int, ok bool, err error) {
	col, err := s.follow.Collection(ctx, id)
	if err != nil || !likelySmall(col, f, p) {
		return nil, 0, false, err
	}
	return s.itemsSmall(ctx, col, f, p, held)
}

// itemsSmall is Items in one statement, with the items held gives where
// it gives one (nil: none); ok is false when the box held more than
// smallAnswer candidates, and the general path must answer.
func (s *Store) itemsSmall(ctx context.Context, col *layers.Collection, f layers.Filter, p layers.Page, held func(fid int64) *layers.Item) (items []*layers.Item, matched int, ok bool, err error) {
	l, box := col.Layer, f.BBoxes[0]
	args := []any{box.Min[0], box.Max[0], box.Min[1], box.Max[1]}
	after := ""
	if a := p.UncountedAfter(); a > 0 {
		after = ` AND r.id > ?`
		args = append(args, a)
	}
	on, equals := equalsWhere(l, f, "t")
	if on != "" {
		on = ` AND ` + on
		args = append(args, equals...)
	}
	most := smallAnswer.Load()
	rtree, table := quoteIdent("rtree_"+l.ID+"_geom"), quoteIdent(l.ID)
	limit := ` LIMIT ` + strconv.FormatInt(most+1, 10)
	// The R-tree's hits, at most smallAnswer+1 of them, so that a box
	// guessed small wrongly (one feature far from the rest makes every
	// box look small) costs no more than that before it hands back; the
	// request's cancellation does not reach the statement (queryRows).
	// Sorted, so that each row is looked up just after the one before,
	// often on the same page, where SQLite steps to it rather than
	// descending the table again (15 % of a 50-parcel box spread over
	// the layer); the LIMIT keeps SQLite from dropping the ORDER BY of a
	// subquery. LEFT JOIN gives every hit a row, its columns NULL where
	// the property values differ or the R-tree names a row the table
	// lacks (its triggers dropped by another program), so that the rows
	// counted are the hits: a box of more than smallAnswer of them hands
	// back however few the values leave.
	hits := `SELECT id FROM ` + rtree + ` r WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?` + after + limit
	sqlText := selectList(l.Schema, "t.") + ` FROM (SELECT id FROM (` + hits + `) ORDER BY id` + limit + `) r` +
		` LEFT JOIN ` + table + ` t ON t.fid = r.id` + on
	// The property values were compared by the statement; only the box
	// is left to decide.
	boxOnly := layers.Filter{BBoxes: f.BBoxes}
	var all []*layers.Item
	var arena geo.Arena
	err = s.admitted(ctx, func(q querier) error {
		var n int64
		return eachRawRow(ctx, q, l, sqlText, args, func(fid int64, vals []any, blob []byte) error {
			if n++; n > most {
				return errTooMany
			}
			if blob == nil {
				// No row, other property values (see LEFT JOIN above), or
				// no geometry: no match.
				return nil
			}
			if it := heldItem(held, fid); it != nil {
				match := boxOnly.Spatial(it.Bound)
				if match == layers.Crossing {
					// Its geometry decides; the row's is at hand.
					g, _, err := rowGeometry(l, fid, blob, &arena)
					if err != nil {
						return err
					}
					if g != nil && boxOnly.MatchesGeometry(g, it.Bound) {
						match = layers.Inside
					}
				}
				if match == layers.Inside {
					all = append(all, it)
				}
				return nil
			}
			g, wkb, err := rowGeometry(l, fid, blob, &arena)
			if err != nil {
				return err
			}
			if g == nil {
				return nil
			}
			if b := g.Bound(); boxOnly.MatchesGeometry(g, b) {
				all = append(all, layers.NewRowItem(l, fid, vals, g, b, wkb))
			}
			return nil
		})
	})
	if errors.Is(err, errTooMany) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, err
	}
	slices.SortFunc(all, func(a, b *layers.Item) int { return cmp.Compare(a.ID, b.ID) })
	ids := make([]int64, len(all))
	for i, it := range all {
		ids[i] = it.ID
	}
	page, matched := layers.PageOf(ids, p)
	if len(page) > 0 {
		// The page is a run of the sorted matches; a copy, so that
		// those off it are not kept alive with it.
		i, _ := slices.BinarySearch(ids, page[0])
		items = slices.Clone(all[i : i+len(page)])
	}
	return items, matched, true, nil
}

// admitted runs fn with a reader of the kept statements once a read slot
// is free, as snapshot does for a transaction: one statement is its own
// snapshot.
func (s *Store) admitted(ctx context.Context, fn func(querier) error) error {
	select {
	case s.readSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.readSlots }()
	return fn(s.cached())
}

// heldItem is held(fid), nil if held is.
func heldItem(held func(int64) *layers.Item, fid int64) *layers.Item {
	if held == nil {
		return nil
	}
	return held(fid)
}
