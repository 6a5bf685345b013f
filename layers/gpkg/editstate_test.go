package gpkg_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/project"

	"planmap/geo"
	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// TestEditsFollowDeclarations: the declarations a feature write checks
// against are those stored when it is made, whoever changed them last: this
// store (over a feature write that read them before), or another process.
// The store keeps them decoded between writes (editstate.go), so each
// case first makes a write that reads them.
func TestEditsFollowDeclarations(t *testing.T) {
	ctx := context.Background()
	s := seededStore(t)
	other, err := gpkg.Open(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ed := layers.Edit{Author: "test"}
	park, err := s.Item(ctx, "parks", 1)
	if err != nil {
		t.Fatal(err)
	}
	// A square of 5 m by 5 m (0.0025 ha) inside park 1, where no other
	// feature is.
	c, _ := planar.CentroidArea(park.Geometry())
	if !planar.MultiPolygonContains(toMulti(park.Geometry()), c) {
		t.Fatalf("the centroid %v of park 1 is not inside it", c)
	}
	d := 0.000025
	tiny := park.Feature()
	tiny.Geometry = orb.Polygon{{{c[0] - d, c[1] - d}, {c[0] + d, c[1] - d}, {c[0] + d, c[1] + d}, {c[0] - d, c[1] + d}, {c[0] - d, c[1] - d}}}
	declared, err := s.Layer(ctx, "parks")
	if err != nil {
		t.Fatal(err)
	}
	withRules := func(rules ...layers.Rule) *layers.Layer {
		l := *declared
		l.Rules = append(slices.Clone(declared.Rules), rules...)
		return &l
	}
	touch := func() {
		t.Helper()
		// A write that reads (and keeps) the declarations.
		it, err := s.Item(ctx, "parks", 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Replace(ctx, "parks", 1, it.Feature(), "", ed); err != nil {
			t.Fatalf("Replace of park 1 as it is: %v", err)
		}
	}
	tooSmall := func(t *testing.T, who string) {
		t.Helper()
		_, err := s.Replace(ctx, "parks", 1, tiny, "", ed)
		if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), "0.01") {
			t.Fatalf("a park of 0.0025 ha after %s declared minAreaHa 0.01: %v, want EINVALID naming 0.01", who, err)
		}
	}
	for _, c := range []struct {
		name string
		by   *gpkg.Store
	}{{"AnotherProcess", other}, {"ThisStore", s}} {
		t.Run(c.name, func(t *testing.T) {
			touch()
			if err := c.by.RedeclareLayer(ctx, withRules(layers.Rule{MinAreaHa: 0.01}), ed); err != nil {
				t.Fatal(err)
			}
			tooSmall(t, c.name)
			touch()
			tooSmall(t, c.name)
			if err := c.by.RedeclareLayer(ctx, withRules(), ed); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Replace(ctx, "parks", 1, tiny, "", ed); err != nil {
				t.Fatalf("a park of 0.0025 ha once the rule is gone: %v", err)
			}
			if _, err := s.Replace(ctx, "parks", 1, park.Feature(), "", ed); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func toMulti(g orb.Geometry) orb.MultiPolygon {
	switch g := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

// TestExtentFollowsRandomEdits: whatever writes do, moving, adding and
// deleting features inside, across and at the edges of the layer's
// extent, the catalog's extent is the one a scan of every geometry gives,
// though it reads it again only when a feature that reached an edge
// changed or went. The writes are this store's, or plain SQL on another
// connection, as QGIS and GDAL write.
func TestExtentFollowsRandomEdits(t *testing.T) {
	for _, bySQL := range []bool{false, true} {
		name := "Store"
		if bySQL {
			name = "OtherConnection"
		}
		t.Run(name, func(t *testing.T) { testExtentFollowsRandomEdits(t, bySQL) })
	}
}

func testExtentFollowsRandomEdits(t *testing.T, bySQL bool) {
	ctx := context.Background()
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(layerstest.Parcels(200))))
	db := rawDB(t, s)
	its, _, err := s.Items(ctx, "parcels", layers.Filter{}, layers.Page{Limit: 1000})
	if err != nil || len(its) < 5 {
		t.Fatalf("parcels: %v, %d", err, len(its))
	}
	ids := make([]int64, len(its))
	for i, it := range its {
		ids[i] = it.ID
	}
	r := rand.New(rand.NewPCG(1, 2))
	// scan returns the extent of every geometry, and a feature that
	// reaches one of its edges (picked at random).
	scan := func() (orb.Bound, int64) {
		var b orb.Bound
		bounds := make([]orb.Bound, len(ids))
		for i, id := range ids {
			it, err := s.Item(ctx, "parcels", id)
			if err != nil {
				t.Fatal(err)
			}
			bounds[i] = it.Geometry().Bound()
			if i == 0 {
				b = bounds[i]
			} else {
				b = b.Union(bounds[i])
			}
		}
		var edge []int64
		for i, fb := range bounds {
			if fb.Min[0] == b.Min[0] || fb.Min[1] == b.Min[1] || fb.Max[0] == b.Max[0] || fb.Max[1] == b.Max[1] {
				edge = append(edge, ids[i])
			}
		}
		return b, edge[r.IntN(len(edge))]
	}
	// moved is feature id's geometry moved by up to 0.025° each way.
	moved := func(id int64) layers.Feature {
		t.Helper()
		it, err := s.Item(ctx, "parcels", id)
		if err != nil {
			t.Fatal(err)
		}
		f := it.Feature()
		f.Geometry = shift(f.Geometry, (r.Float64()-0.5)*0.05, (r.Float64()-0.5)*0.05)
		return f
	}
	exec := func(query string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, query, args...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
	}
	blob := func(g orb.Geometry) []byte {
		t.Helper()
		b, err := geo.EncodeGPKG(g, 4326)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	_, atEdge := scan()
	ed := layers.Edit{Author: "test", Note: "random"}
	for step := range 150 {
		var what string
		switch op := r.IntN(6); {
		case op == 0 && len(ids) > 3:
			i := r.IntN(len(ids))
			if r.IntN(2) == 0 {
				i = slices.Index(ids, atEdge)
			}
			what = "delete"
			if bySQL {
				exec(`DELETE FROM parcels WHERE fid = ?`, ids[i])
			} else if err := s.Delete(ctx, "parcels", ids[i], "", ed); err != nil {
				t.Fatalf("step %d: Delete: %v", step, err)
			}
			ids = slices.Delete(ids, i, i+1)
		case op == 1:
			f := moved(ids[r.IntN(len(ids))])
			what = "create"
			if bySQL {
				var fid int64
				if err := db.QueryRowContext(ctx, `INSERT INTO parcels (geom, name_zh, status) VALUES (?, 'SQL', 'planned') RETURNING fid`, blob(f.Geometry)).Scan(&fid); err != nil {
					t.Fatalf("step %d: INSERT: %v", step, err)
				}
				ids = append(ids, fid)
				break
			}
			got, err := s.Create(ctx, "parcels", f, ed)
			if layers.ErrorCode(err) == layers.EINVALID {
				continue // the planning rules refused where it went
			}
			if err != nil {
				t.Fatalf("step %d: Create: %v", step, err)
			}
			ids = append(ids, got.ID)
		default:
			// Half the time a feature that reaches an edge, moved.
			id := ids[r.IntN(len(ids))]
			if r.IntN(2) == 0 {
				id = atEdge
			}
			f := moved(id)
			what = "move"
			if bySQL && r.IntN(3) == 0 {
				// Without the delete trigger (see advance).
				what = "replace"
				exec(`INSERT OR REPLACE INTO parcels (fid, geom, name_zh, status) VALUES (?, ?, 'SQL', 'planned')`, id, blob(f.Geometry))
			} else if bySQL {
				exec(`UPDATE parcels SET geom = ? WHERE fid = ?`, blob(f.Geometry), id)
			} else if _, err := s.Replace(ctx, "parcels", f.ID, f, "", ed); layers.ErrorCode(err) == layers.EINVALID {
				continue
			} else if err != nil {
				t.Fatalf("step %d: Replace: %v", step, err)
			}
		}
		if bySQL {
			// Often several changes at once, as the poll loop finds them.
			if r.IntN(3) != 0 {
				_, atEdge = scan()
				continue
			}
			s.TakeIn(ctx)
		}
		cat, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		col, _ := cat.Collection("parcels")
		want, edge := scan()
		atEdge = edge
		if col.Extent != want {
			t.Fatalf("step %d, after a %s: the catalog's extent is %v, a scan gives %v", step, what, col.Extent, want)
		}
		if col.Count != len(ids) {
			t.Fatalf("step %d, after a %s: the catalog counts %d features, not %d", step, what, col.Count, len(ids))
		}
	}
}

func shift(g orb.Geometry, dx, dy float64) orb.Geometry {
	return project.Geometry(orb.Clone(g), func(p orb.Point) orb.Point { return orb.Point{p[0] + dx, p[1] + dy} })
}

// TestEditsAfterDropAndDeclare: the statements a write keeps prepared name
// the layer's table; dropping the layer and declaring it again leaves
// writes to it working, on the new table.
func TestEditsAfterDropAndDeclare(t *testing.T) {
	ctx := context.Background()
	s := seededStore(t)
	ed := layers.Edit{Author: "test"}
	its, _, err := s.Items(ctx, "terminals", layers.Filter{}, layers.Page{Limit: 1})
	if err != nil || len(its) != 1 {
		t.Fatalf("terminals: %v, %d", err, len(its))
	}
	terminal := its[0].Feature()
	for range 2 { // the second one through the kept statements
		if _, err := s.Replace(ctx, "terminals", terminal.ID, terminal, "", ed); err != nil {
			t.Fatal(err)
		}
	}
	decl, err := s.Layer(ctx, "terminals")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DropLayer(ctx, "terminals", ed); err != nil {
		t.Fatalf("DropLayer after edits: %v", err)
	}
	if _, err := s.Replace(ctx, "terminals", terminal.ID, terminal, "", ed); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Fatalf("Replace in the dropped layer: %v, want ENOTFOUND", err)
	}
	if err := s.DeclareLayer(ctx, decl, ed); err != nil {
		t.Fatal(err)
	}
	got, err := s.Create(ctx, "terminals", terminal, ed)
	if err != nil {
		t.Fatalf("Create in the layer declared again: %v", err)
	}
	for i := range 2 {
		if _, err := s.Replace(ctx, "terminals", got.ID, terminal, "", ed); err != nil {
			t.Fatalf("Replace %d in the layer declared again: %v", i, err)
		}
	}
	if vs, err := s.Versions(ctx, "terminals", got.ID); err != nil || len(vs) != 3 {
		t.Errorf("Versions of the feature created and replaced twice: %d, %v; want 3", len(vs), err)
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if col, _ := cat.Collection("terminals"); col.Count != 1 {
		t.Errorf("terminals declared again, one created: the catalog counts %d", col.Count)
	}
}
