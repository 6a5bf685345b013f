package storetest

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// shapeFields are the properties the suite asks shapes for: fields of
// every type, one asked twice, and one no layer has.
var shapeFields = []string{"name_zh", "name_en", "status", "berths", "area_mu", "public", "opened", "surveyed", "no_such_field", "status"}

// shapes calls Shapes and fails the test on an error.
func shapes(t *testing.T, s Store, id string, f layers.Filter, p layers.Page, fields []string) ([]layers.Shape, int) {
	t.Helper()
	out, matched, err := s.Shapes(ctx, id, f, p, fields)
	if err != nil {
		t.Fatalf("Shapes(%s, %+v, %+v, %v): %v", id, f, p, fields, err)
	}
	return out, matched
}

// brutePage is page p of ids, the ascending ids brute force finds.
func brutePage(ids []int64, p layers.Page) []int64 {
	i := 0
	for i < len(ids) && ids[i] <= p.After {
		i++
	}
	ids = ids[min(i+max(p.Offset, 0), len(ids)):]
	return ids[:min(max(p.Limit, 0), len(ids))]
}

// shapeIDs returns the ids of shapes, in their order.
func shapeIDs(shapes []layers.Shape) []int64 {
	out := make([]int64, 0, len(shapes))
	for _, sh := range shapes {
		out = append(out, sh.ID)
	}
	return out
}

// sameAsItems checks that shapes, the answer of Shapes with fields, are
// the items of Items' answer, each reduced to its geometry and the fields:
// the same features in the same order, the same geometry and the same
// typed values, nil for nulls and for fields the layer lacks.
func sameAsItems(t *testing.T, call string, got []layers.Shape, items []*layers.Item, fields []string) {
	t.Helper()
	if !slices.Equal(shapeIDs(got), ids(items)) {
		t.Errorf("%s = features %v, Items has %v", call, shapeIDs(got), ids(items))
		return
	}
	for i, sh := range got {
		it := items[i]
		if !orb.Equal(sh.Geometry, it.Geometry()) {
			t.Errorf("%s: feature %d has geometry %v, Items has %v", call, sh.ID, sh.Geometry, it.Geometry())
		}
		want := make([]any, len(fields))
		for j, name := range fields {
			want[j] = it.Properties()[name]
		}
		if !reflect.DeepEqual(sh.Values, want) {
			t.Errorf("%s: feature %d has values %#v of %v, want %#v", call, sh.ID, sh.Values, fields, want)
		}
	}
}

// testShapes checks Shapes against Items: the same selection (the one
// bbox rule, property values, pages, exact counts), each feature as its
// geometry and the fields asked for; read cold, with part of the page
// read by Items before (a cache then holds some), and with all of it.
func testShapes(t *testing.T, h Harness) {
	const n = 800
	s, w := h.New(t)
	ls := synthetic(t, s, w, n)
	write(t, s, w, layers.ImportOptions{}, parse(t, "parcels.geojson", []byte(parcelsGeoJSON)))
	rng := rand.New(rand.NewSource(14))
	type query struct {
		name string
		f    layers.Filter
		p    layers.Page
	}
	var qs []query
	for i := 0; i < 8; i++ {
		qs = append(qs, query{fmt.Sprintf("box%d", i), layers.Filter{BBoxes: []orb.Bound{randomBox(rng, n, gridCell/4, 8*gridCell)}}, layers.Page{Limit: n + 1}})
	}
	qs = append(qs,
		query{"all", layers.Filter{}, layers.Page{Limit: n + 1}},
		query{"twoBoxesAndEquals", layers.Filter{
			BBoxes: []orb.Bound{randomBox(rng, n, 8*gridCell, 14*gridCell), randomBox(rng, n, 3*gridCell, 6*gridCell)},
			Equals: map[string]any{"status": "signed"}}, layers.Page{Limit: n + 1}},
		query{"equals", layers.Filter{Equals: map[string]any{"public": true}}, layers.Page{Limit: 40}},
		query{"after", layers.Filter{BBoxes: []orb.Bound{randomBox(rng, n, 10*gridCell, 14*gridCell)}}, layers.Page{After: 300, Limit: 25}},
		query{"offset", layers.Filter{BBoxes: []orb.Bound{randomBox(rng, n, 10*gridCell, 14*gridCell)}}, layers.Page{Offset: 12, Limit: 30}},
		// A box over the whole grid, so that the features after After
		// are in it.
		query{"uncounted", layers.Filter{BBoxes: []orb.Bound{{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}}}, layers.Page{After: 300, Limit: 25, Uncounted: true}},
		query{"overlappingBoxesCut", layers.Filter{BBoxes: overlapping(randomBox(rng, n, 8*gridCell, 14*gridCell))},
			layers.Page{After: 100, Offset: 3, Limit: 7}},
		query{"countOnly", layers.Filter{BBoxes: []orb.Bound{randomBox(rng, n, 10*gridCell, 14*gridCell)}}, layers.Page{Limit: 0}},
		query{"nowhere", layers.Filter{BBoxes: []orb.Bound{{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}}}, layers.Page{Limit: 10}},
	)
	var nonEmpty int
	for _, l := range ls {
		for _, q := range qs {
			call := fmt.Sprintf("%s: Shapes(%s, %+v, %+v)", q.name, l.ID, q.f, q.p)
			cold, matched := shapes(t, s, l.ID, q.f, q.p, shapeFields)
			want := bruteIDs(l.Features, q.f.BBoxes, q.f.Equals)
			if matched != len(want) && !q.p.Uncounted {
				t.Errorf("%s: matched %d, brute force finds %d", call, matched, len(want))
			}
			if page := brutePage(want, q.p); !slices.Equal(shapeIDs(cold), page) {
				t.Errorf("%s: ids %v; brute force's page %v", call, shapeIDs(cold), page)
			}
			// Part of the page read as items first, then all of it.
			firstItems, _, err := s.Items(ctx, l.ID, q.f, layers.Page{After: q.p.After, Offset: q.p.Offset, Limit: min(q.p.Limit, 5)})
			if err != nil {
				t.Fatalf("Items(%s, %+v): %v", l.ID, q.f, err)
			}
			mixed, mixedMatched := shapes(t, s, l.ID, q.f, q.p, shapeFields)
			all, itemsMatched, err := s.Items(ctx, l.ID, q.f, q.p)
			if err != nil {
				t.Fatalf("Items(%s, %+v, %+v): %v", l.ID, q.f, q.p, err)
			}
			held, heldMatched := shapes(t, s, l.ID, q.f, q.p, shapeFields)
			if matched != itemsMatched || mixedMatched != itemsMatched || heldMatched != itemsMatched {
				t.Errorf("%s: matched %d, %d and %d; Items says %d", call, matched, mixedMatched, heldMatched, itemsMatched)
			}
			sameAsItems(t, call+" before any Items", cold, all, shapeFields)
			sameAsItems(t, call+fmt.Sprintf(" after Items of %d of them", len(firstItems)), mixed, all, shapeFields)
			sameAsItems(t, call+" after Items of them all", held, all, shapeFields)
			if len(all) > 0 {
				nonEmpty++
			}
		}
	}
	if nonEmpty < len(ls)*(len(qs)-2) {
		t.Errorf("only %d of %d queries selected features: the test tests too little", nonEmpty, len(ls)*len(qs))
	}

	t.Run("Types", func(t *testing.T) {
		fields := []string{"name_en", "berths", "area_mu", "public", "opened", "nothing"}
		got, _ := shapes(t, s, "parcels", layers.Filter{}, layers.Page{Limit: 10}, fields)
		want := []layers.Shape{
			{ID: 1, Values: []any{`Parcel "one"`, int64(8), 575.5, true, "2021-09-26", nil}},
			{ID: 3, Values: []any{nil, int64(0), 12.0, nil, nil, nil}},
			{ID: 7, Values: []any{nil, nil, nil, false, nil, nil}},
		}
		if len(got) != len(want) {
			t.Fatalf("Shapes(parcels) = %d shapes, want %d", len(got), len(want))
		}
		for i := range want {
			if got[i].ID != want[i].ID || !reflect.DeepEqual(got[i].Values, want[i].Values) {
				t.Errorf("Shapes(parcels, %v)[%d] = %d %#v, want %d %#v", fields, i, got[i].ID, got[i].Values, want[i].ID, want[i].Values)
			}
		}
		if _, ok := got[2].Geometry.(orb.MultiPolygon); !ok {
			t.Errorf("Shapes(parcels): feature 7 is a %T, want an orb.MultiPolygon", got[2].Geometry)
		}
	})
	t.Run("NoFields", func(t *testing.T) {
		got, matched := shapes(t, s, "parcels", layers.Filter{}, layers.Page{Limit: 10}, nil)
		if matched != 3 || len(got) != 3 {
			t.Fatalf("Shapes(parcels, no fields) = %d shapes, matched %d; want 3, 3", len(got), matched)
		}
		for _, sh := range got {
			if len(sh.Values) != 0 || sh.Geometry == nil {
				t.Errorf("Shapes(parcels, no fields): feature %d has values %v, geometry %v; want none and one", sh.ID, sh.Values, sh.Geometry)
			}
		}
	})
	t.Run("Deleted", func(t *testing.T) {
		f := layers.Filter{BBoxes: []orb.Bound{{Min: orb.Point{gridWest, gridSouth}, Max: orb.Point{gridWest + 5*gridCell, gridSouth + 2*gridCell}}}}
		before, _ := shapes(t, s, "plots", f, layers.Page{Limit: 100}, shapeFields)
		if len(before) < 4 {
			t.Fatalf("Shapes(plots, %v) = %d shapes: too few to delete some", f.BBoxes, len(before))
		}
		gone := []int64{before[1].ID, before[3].ID}
		remove(t, s, w, "plots", gone...)
		after, matched := shapes(t, s, "plots", f, layers.Page{Limit: 100}, shapeFields)
		all, itemsMatched, err := s.Items(ctx, "plots", f, layers.Page{Limit: 100})
		if err != nil {
			t.Fatalf("Items(plots): %v", err)
		}
		if matched != len(before)-2 || itemsMatched != matched {
			t.Errorf("after deleting %v: Shapes matched %d, Items %d; want %d", gone, matched, itemsMatched, len(before)-2)
		}
		sameAsItems(t, "Shapes(plots) after a delete", after, all, shapeFields)
		for _, sh := range after {
			if slices.Contains(gone, sh.ID) {
				t.Errorf("Shapes(plots) after deleting %v still has %d", gone, sh.ID)
			}
		}
	})
	t.Run("ErrNoLayer", func(t *testing.T) {
		_, _, err := s.Shapes(ctx, "nowhere", layers.Filter{}, layers.Page{Limit: 10}, shapeFields)
		if code := layers.ErrorCode(err); code != layers.ENOTFOUND {
			t.Errorf("Shapes(nowhere) error = %v (code %q); want an %s error", err, code, layers.ENOTFOUND)
		}
	})
}

// overlapping returns b and b moved by half its size each way: two boxes
// that share a quarter of each, where features are met by the reads of
// both.
func overlapping(b orb.Bound) []orb.Bound {
	dx, dy := (b.Max[0]-b.Min[0])/2, (b.Max[1]-b.Min[1])/2
	return []orb.Bound{b, {Min: orb.Point{b.Min[0] + dx, b.Min[1] + dy}, Max: orb.Point{b.Max[0] + dx, b.Max[1] + dy}}}
}
