package layerstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"planmap/layers"
	"planmap/seeds"
)

// ImportRulesStore is what ImportRules needs of a store: its import, and
// the reads that show what an import did.
type ImportRulesStore interface {
	Import(ctx context.Context, files []*layers.File, opt layers.ImportOptions) ([]layers.ImportResult, error)
	Items(ctx context.Context, id string, f layers.Filter, p layers.Page) ([]*layers.Item, int, error)
	Catalog(ctx context.Context) (*layers.Catalog, error)
	WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error
}

// ImportRules tests that a store's import is checked against the
// planning rules as an edit is, each store the same: from both sides,
// with the geometry a feature had before; one that breaks a rule is
// refused whole, naming the file, the feature and the rule, and leaves
// the store as it was. s holds the seed layers and checks the planning
// rules.
func ImportRules(t *testing.T, s ImportRulesStore) {
	ctx := context.Background()
	export := func(t *testing.T, id string) string {
		t.Helper()
		var b bytes.Buffer
		if err := s.WriteGeoJSON(ctx, &b, id, nil); err != nil {
			t.Fatalf("WriteGeoJSON(%s): %v", id, err)
		}
		return b.String()
	}
	// snapshot is every layer of the store as it exports it, those of
	// files among them, when they exist.
	snapshot := func(t *testing.T, files []*layers.File) string {
		t.Helper()
		cat, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, c := range cat.Collections {
			b.WriteString(export(t, c.ID))
		}
		for _, f := range files {
			err := s.WriteGeoJSON(ctx, &b, f.LayerID, nil)
			if layers.ErrorCode(err) == layers.ENOTFOUND {
				fmt.Fprintf(&b, "no layer %s\n", f.LayerID)
			} else if err != nil {
				t.Fatalf("WriteGeoJSON(%s): %v", f.LayerID, err)
			}
		}
		return b.String()
	}
	parse := func(t *testing.T, name string, b []byte) *layers.File {
		t.Helper()
		f, err := layers.ParseFile(name, b)
		if err != nil {
			t.Fatalf("ParseFile(%s): %v", name, err)
		}
		return f
	}
	first := func(layer, nameZh string) *layers.Item {
		t.Helper()
		its, _, err := s.Items(ctx, layer, layers.Filter{Equals: map[string]any{"name_zh": nameZh}}, layers.Page{Limit: 1})
		if err != nil || len(its) != 1 {
			t.Fatalf("%s %s: %v, %d items", layer, nameZh, err, len(its))
		}
		return its[0]
	}
	park := first("parks", "海港生态公园")
	terminal := first("terminals", "中天内河码头")
	boundary := first("boundary", "海门港新区（包场镇）")
	// The ids the seed files give them, which the messages name.
	if terminal.ID != 4 || boundary.ID != 1 {
		t.Fatalf("terminal %d and boundary %d, want the seeds' ids 4 and 1", terminal.ID, boundary.ID)
	}
	refused := func(t *testing.T, files []*layers.File, opt layers.ImportOptions, wants ...string) {
		t.Helper()
		before := snapshot(t, files)
		_, err := s.Import(ctx, files, opt)
		if layers.ErrorCode(err) != layers.EINVALID {
			t.Fatalf("Import: error %v (code %s), want EINVALID", err, layers.ErrorCode(err))
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Import: error %q does not name %q", err, w)
			}
		}
		if snapshot(t, files) != before {
			t.Errorf("Import: a refused import changed the store")
		}
	}

	t.Run("ErrTerminalOntoPark", func(t *testing.T) {
		m := LayerFile(t, s, "terminals")
		WithGeometry(t, m, terminal.ID, park.Geometry())
		refused(t, []*layers.File{FileOf(t, "moved/terminals.geojson", m)}, layers.ImportOptions{},
			fmt.Sprintf("moved/terminals.geojson: feature %d", terminal.ID), "parks", "海港生态公园", "notOverlapping")
	})
	t.Run("ErrBoundaryShrunk", func(t *testing.T) {
		// Updated by id, not replaced: the features that lay within the
		// boundary's old shape are found through it, not its new one.
		m := LayerFile(t, s, "boundary")
		WithGeometry(t, m, boundary.ID, orb.Polygon{park.Geometry().Bound().Pad(0.001).ToRing()})
		refused(t, []*layers.File{FileOf(t, "shrunk/boundary.geojson", m)}, layers.ImportOptions{},
			fmt.Sprintf("shrunk/boundary.geojson: feature %d", boundary.ID), "within boundary", "terminals")
	})
	t.Run("ErrBoundaryRemovedByReplace", func(t *testing.T) {
		m := LayerFile(t, s, "boundary")
		m["features"] = []any{}
		refused(t, []*layers.File{FileOf(t, "empty/boundary.geojson", m)}, layers.ImportOptions{Replace: true},
			fmt.Sprintf("empty/boundary.geojson: feature %d, removed", boundary.ID), "outside every feature of layer boundary")
	})
	t.Run("ErrNewLayerOverlapsItself", func(t *testing.T) {
		// Two files of one import, the second's rule about the first's
		// layer: each sees the other's features.
		plots := `{"type": "FeatureCollection", "name": "plots", "title": {"zh": "地块", "en": "Plots"},
		  "geometryType": "Polygon", "schema": [{"name": "name_zh", "type": "string"}],
		  "features": [
		    {"type": "Feature", "id": 1, "properties": {"name_zh": "甲"}, "geometry": {"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.01, 30.0], [120.01, 30.01], [120.0, 30.01], [120.0, 30.0]]]}}]}`
		lots := `{"type": "FeatureCollection", "name": "lots", "title": {"zh": "宗地", "en": "Lots"},
		  "geometryType": "Polygon", "schema": [{"name": "name_zh", "type": "string"}],
		  "rules": [{"notOverlapping": ["plots", "lots"], "toleranceM2": 1}],
		  "features": [
		    {"type": "Feature", "id": 1, "properties": {"name_zh": "乙"}, "geometry": {"type": "Polygon", "coordinates": [[[120.005, 30.005], [120.02, 30.005], [120.02, 30.02], [120.005, 30.02], [120.005, 30.005]]]}},
		    {"type": "Feature", "id": 2, "properties": {"name_zh": "丙"}, "geometry": {"type": "Polygon", "coordinates": [[[121.0, 30.0], [121.01, 30.0], [121.01, 30.01], [121.0, 30.01], [121.0, 30.0]]]}}]}`
		refused(t, []*layers.File{parse(t, "plots.geojson", []byte(plots)), parse(t, "lots.geojson", []byte(lots))}, layers.ImportOptions{},
			"lots.geojson: feature 1: lots 1 (乙) overlaps plots 1 (甲)")
	})
	t.Run("ErrManyStopsAtMaxProblems", func(t *testing.T) {
		// More features break a rule than a message lists: the check
		// stops there, and says so.
		var fs []string
		for i := 1; i <= layers.MaxProblems+10; i++ {
			x := 120 + float64(i)*0.01
			fs = append(fs, fmt.Sprintf(`{"type": "Feature", "id": %d, "properties": {}, "geometry": {"type": "Polygon", "coordinates": [[[%g, 30.0], [%g, 30.0], [%g, 30.0001], [%g, 30.0001], [%g, 30.0]]]}}`,
				i, x, x+0.0001, x+0.0001, x, x))
		}
		specks := `{"type": "FeatureCollection", "name": "specks", "title": {"zh": "碎块", "en": "Specks"},
		  "geometryType": "Polygon", "schema": [], "rules": [{"minAreaHa": 1}],
		  "features": [` + strings.Join(fs, ",") + `]}`
		refused(t, []*layers.File{parse(t, "specks.geojson", []byte(specks))}, layers.ImportOptions{},
			"specks.geojson: feature 1: specks 1 covers 0.01 ha, less than the 1 ha rule minAreaHa of layer specks asks",
			fmt.Sprintf("specks.geojson: feature %d:", layers.MaxProblems),
			"the planning rules were not checked further")
	})
	t.Run("OKSameFileAgain", func(t *testing.T) {
		// Every feature written again as it was: nothing to check.
		m := LayerFile(t, s, "terminals")
		if _, err := s.Import(ctx, []*layers.File{FileOf(t, "terminals.geojson", m)}, layers.ImportOptions{}); err != nil {
			t.Fatalf("Import of terminals as stored: %v", err)
		}
	})
	t.Run("OKSeedsAgain", func(t *testing.T) {
		// Every feature written again as it was: nothing breaks.
		files, err := layers.ReadFS(seeds.FS)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(ctx, files, layers.ImportOptions{}); err != nil {
			t.Fatalf("Import of the seeds again: %v", err)
		}
	})
	t.Run("OKMovedWithinTheRules", func(t *testing.T) {
		m := LayerFile(t, s, "terminals")
		g := terminal.Geometry().(orb.MultiPolygon)
		// Shrunk towards its centre: still within the boundary, over
		// nothing new.
		c := g.Bound().Center()
		var moved orb.MultiPolygon
		for _, p := range g {
			var q orb.Polygon
			for _, r := range p {
				r = r.Clone()
				for i := range r {
					r[i] = orb.Point{c[0] + (r[i][0]-c[0])*0.9, c[1] + (r[i][1]-c[1])*0.9}
				}
				q = append(q, r)
			}
			moved = append(moved, q)
		}
		WithGeometry(t, m, terminal.ID, moved)
		if _, err := s.Import(ctx, []*layers.File{FileOf(t, "terminals.geojson", m)}, layers.ImportOptions{}); err != nil {
			t.Fatalf("Import of a terminal shrunk in place: %v", err)
		}
	})
}

// GeoJSONWriter is a store's export of a layer as a layer file.
type GeoJSONWriter interface {
	WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error
}

// LayerFile returns layer id as s exports it (its declaration and
// features), decoded for a test to change and import again (FileOf).
func LayerFile(t testing.TB, s GeoJSONWriter, id string) map[string]any {
	t.Helper()
	var b bytes.Buffer
	if err := s.WriteGeoJSON(context.Background(), &b, id, nil); err != nil {
		t.Fatalf("WriteGeoJSON(%s): %v", id, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// WithGeometry sets the geometry of feature fid of the layer file m (from
// LayerFile) to g.
func WithGeometry(t testing.TB, m map[string]any, fid int64, g orb.Geometry) {
	t.Helper()
	for _, f := range m["features"].([]any) {
		f := f.(map[string]any)
		if id, _ := f["id"].(float64); int64(id) == fid {
			f["geometry"] = geojson.NewGeometry(g)
			return
		}
	}
	t.Fatalf("the file has no feature %d", fid)
}

// FileOf returns the layer file m (from LayerFile) as a file named name.
func FileOf(t testing.TB, name string, m map[string]any) *layers.File {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	f, err := layers.ParseFile(name, b)
	if err != nil {
		t.Fatalf("ParseFile(%s): %v", name, err)
	}
	return f
}
