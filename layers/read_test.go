package layers_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"planmap/layers"
)

// searchLayers are three layers in drawing order: parcels and roads have
// names, pipes none.
func searchLayers() []*layers.Collection {
	return []*layers.Collection{
		{Layer: &layers.Layer{ID: "parcels", Schema: []layers.Field{{Name: "code", Type: layers.String}, {Name: "name_zh", Type: layers.String}}}},
		{Layer: &layers.Layer{ID: "pipes", Schema: []layers.Field{{Name: "name_zh", Type: layers.Number}}}},
		{Layer: &layers.Layer{ID: "roads", Schema: []layers.Field{{Name: "name_en", Type: layers.String}, {Name: "name_zh", Type: layers.String}}}},
	}
}

func TestSearch(t *testing.T) {
	// What each layer's find gives, and what was asked of the store.
	matches := map[string][]layers.Match{
		"parcels": {{FID: 4, Starts: true}, {FID: 1}, {FID: 2}},
		"roads":   {{FID: 3, Starts: true}, {FID: 9, Starts: true}, {FID: 5}},
	}
	var asked, loaded []string
	find := func(col *layers.Collection, fields []string, text string, limit int) ([]layers.Match, error) {
		asked = append(asked, fmt.Sprintf("%s %v %s %d", col.ID, fields, text, limit))
		return matches[col.ID], nil
	}
	load := func(l *layers.Layer, fids []int64) ([]*layers.Item, error) {
		loaded = append(loaded, fmt.Sprintf("%s %v", l.ID, fids))
		var its []*layers.Item
		for _, fid := range fids {
			its = append(its, &layers.Item{ID: fid})
		}
		return its, nil
	}
	hitList := func(hs []layers.Hit) string {
		var s []string
		for _, h := range hs {
			s = append(s, fmt.Sprint(h.Layer, "/", h.Item.ID))
		}
		return strings.Join(s, " ")
	}
	for _, tc := range []struct {
		name        string
		text        string
		limit       int
		want        string
		asked, load []string
	}{
		{"StartsFirstThenLayerThenID", " Road ", 10, "parcels/4 roads/3 roads/9 parcels/1 parcels/2 roads/5",
			[]string{"parcels [name_zh] road 10", "roads [name_en name_zh] road 10"},
			[]string{"parcels [4 1 2]", "roads [3 9 5]"}},
		{"CutToLimitLoadsOnlyHits", "road", 4, "parcels/4 roads/3 roads/9 parcels/1",
			[]string{"parcels [name_zh] road 4", "roads [name_en name_zh] road 4"},
			[]string{"parcels [4 1]", "roads [3 9]"}},
		{"Blank", "  ", 10, "", nil, nil},
		{"NoLimit", "road", 0, "", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked, loaded = nil, nil
			hits, err := layers.Search(tc.text, tc.limit, searchLayers(), find, load)
			if err != nil {
				t.Fatalf("Search(%q, %d): %v", tc.text, tc.limit, err)
			}
			if got := hitList(hits); got != tc.want {
				t.Errorf("Search(%q, %d) = %s, want %s", tc.text, tc.limit, got, tc.want)
			}
			if !slices.Equal(asked, tc.asked) {
				t.Errorf("Search(%q, %d) asked find %q, want %q", tc.text, tc.limit, asked, tc.asked)
			}
			if !slices.Equal(loaded, tc.load) {
				t.Errorf("Search(%q, %d) loaded %q, want %q", tc.text, tc.limit, loaded, tc.load)
			}
		})
	}
	t.Run("ErrFind", func(t *testing.T) {
		bad := errors.New("no table")
		_, err := layers.Search("road", 3, searchLayers(), func(*layers.Collection, []string, string, int) ([]layers.Match, error) {
			return nil, bad
		}, load)
		if !errors.Is(err, bad) {
			t.Errorf("Search with a failing find = %v, want %v", err, bad)
		}
	})
	t.Run("ErrLoad", func(t *testing.T) {
		bad := errors.New("gone away")
		_, err := layers.Search("road", 3, searchLayers(), find, func(*layers.Layer, []int64) ([]*layers.Item, error) {
			return nil, bad
		})
		if !errors.Is(err, bad) {
			t.Errorf("Search with a failing load = %v, want %v", err, bad)
		}
	})
}

func TestOrderShapes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		read, fids []int64
		want       []int64
	}{
		{"AscendingAsRead", []int64{2, 5, 9}, []int64{2, 5, 9}, []int64{2, 5, 9}},
		{"SomeMissing", []int64{2, 9}, []int64{2, 5, 9}, []int64{2, 9}},
		{"FidsUnsorted", []int64{2, 5, 9}, []int64{9, 2, 5}, []int64{9, 2, 5}},
		{"ReadUnsorted", []int64{5, 2, 9}, []int64{2, 5, 9}, []int64{2, 5, 9}},
		{"TwiceInFids", []int64{2, 5}, []int64{5, 2, 5}, []int64{5, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var shapes []layers.Shape
			for _, id := range tc.read {
				shapes = append(shapes, layers.Shape{ID: id})
			}
			layers.OrderShapes(shapes, tc.fids)
			var got []int64
			for _, sh := range shapes {
				got = append(got, sh.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("OrderShapes(read %v, fids %v) = %v, want %v", tc.read, tc.fids, got, tc.want)
			}
		})
	}
}

func TestShapeColumns(t *testing.T) {
	l := searchLayers()[2].Layer // name_en, name_zh
	cols, at := layers.ShapeColumns(l, []string{"name_zh", "nothing", "name_en", "name_zh"})
	var names []string
	for _, fd := range cols {
		names = append(names, fd.Name)
	}
	if want := []string{"name_zh", "name_en", "name_zh"}; !slices.Equal(names, want) || !slices.Equal(at, []int{0, 2, 3}) {
		t.Errorf("ShapeColumns(roads, [name_zh nothing name_en name_zh]) = %v at %v, want %v at [0 2 3]", names, at, want)
	}
}

func TestPageOf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		p       layers.Page
		want    []int64
		matched int
	}{
		{"All", layers.Page{Limit: 10}, []int64{1, 3, 4, 8}, 4},
		{"Limit", layers.Page{Limit: 2}, []int64{1, 3}, 4},
		{"After", layers.Page{After: 3, Limit: 10}, []int64{4, 8}, 4},
		{"AfterAndOffset", layers.Page{After: 1, Offset: 1, Limit: 1}, []int64{4}, 4},
		{"OffsetPastEnd", layers.Page{Offset: 9, Limit: 10}, []int64{}, 4},
		{"NoLimit", layers.Page{}, []int64{}, 4},
		{"Uncounted", layers.Page{After: 1, Limit: 2, Uncounted: true}, []int64{3, 4}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Two boxes found 4 and 1: each counts once.
			page, matched := layers.PageOf([]int64{8, 4, 1, 3, 4, 1}, tc.p)
			if !slices.Equal(page, tc.want) || matched != tc.matched {
				t.Errorf("PageOf([8 4 1 3 4 1], %+v) = %v, %d; want %v, %d", tc.p, page, matched, tc.want, tc.matched)
			}
		})
	}
}
