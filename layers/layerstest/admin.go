package layerstest

import (
	"context"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// AdminStore is what LayerAdmin needs of a store: web.LayerEditor and
// the reads and edits that show what it did.
type AdminStore interface {
	DeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error
	RedeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error
	DropLayer(ctx context.Context, id string, e layers.Edit) error
	Catalog(ctx context.Context) (*layers.Catalog, error)
	Changes(ctx context.Context, after int64, limit int) ([]layers.Change, error)
	Items(ctx context.Context, id string, f layers.Filter, p layers.Page) ([]*layers.Item, int, error)
	Item(ctx context.Context, id string, fid int64) (*layers.Item, error)
	Versions(ctx context.Context, id string, fid int64) ([]layers.Version, error)
	Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error)
}

// LayerAdmin tests a store's web.LayerEditor, each store the same: s
// holds the seed layers (parks with its planning rules, terminals), and
// checks the planning rules. A layer is declared, redeclared and dropped
// through the store. A redeclaration that a stored feature breaks, by a
// field or by a planning rule, is refused naming it and changes nothing;
// a dropped layer leaves its history, and the change log says so.
func LayerAdmin(t *testing.T, s AdminStore) {
	ctx := context.Background()
	ed := layers.Edit{Author: "root", Note: "test"}
	catalog := func() *layers.Catalog {
		t.Helper()
		c, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	seq := func() int64 { t.Helper(); return catalog().Seq }
	layer := func(id string) *layers.Layer {
		t.Helper()
		c, ok := catalog().Collection(id)
		if !ok {
			return nil
		}
		return c.Layer
	}
	parks := layer("parks")
	if parks == nil || len(parks.Rules) == 0 {
		t.Fatalf("the seed layer parks, with planning rules: %+v", parks)
	}
	redeclared := func(change func(l *layers.Layer)) *layers.Layer {
		l := *parks
		l.Schema = append([]layers.Field(nil), parks.Schema...)
		l.Rules = append([]layers.Rule(nil), parks.Rules...)
		change(&l)
		return &l
	}

	t.Run("Declare", func(t *testing.T) {
		l := &layers.Layer{ID: "wells", Title: layers.Text{Zh: "井", En: "Wells"}, GeometryType: "Point",
			Schema: []layers.Field{{Name: "name", Type: layers.String}}}
		if err := s.DeclareLayer(ctx, l, ed); err != nil {
			t.Fatal(err)
		}
		c, ok := catalog().Collection("wells")
		if !ok || c.Count != 0 || c.Title.En != "Wells" || c.Field("name") == nil {
			t.Fatalf("the catalog after DeclareLayer(wells): %+v, %v; want it, empty", c, ok)
		}
		it, err := s.Create(ctx, "wells", layers.Feature{Geometry: parksPoint(t, s), Properties: map[string]any{"name": "一号"}}, ed)
		if err != nil || it.ID != 1 {
			t.Fatalf("Create in the declared layer: %+v, %v", it, err)
		}
		if err := s.DeclareLayer(ctx, l, ed); layers.ErrorCode(err) != layers.ECONFLICT {
			t.Errorf("DeclareLayer of wells again: %v, want ECONFLICT", err)
		}
	})
	t.Run("DeclareExisting", func(t *testing.T) {
		if err := s.DeclareLayer(ctx, parks, ed); layers.ErrorCode(err) != layers.ECONFLICT {
			t.Errorf("DeclareLayer of parks, which exists: %v, want ECONFLICT", err)
		}
	})
	t.Run("DeclareInvalid", func(t *testing.T) {
		l := redeclared(func(l *layers.Layer) { l.ID, l.GeometryType = "blobs", "Blob" })
		if err := s.DeclareLayer(ctx, l, ed); layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), "geometryType") {
			t.Errorf("DeclareLayer with geometryType Blob: %v, want EINVALID naming geometryType", err)
		}
		if layer("blobs") != nil {
			t.Errorf("a refused declaration is in the catalog")
		}
	})
	t.Run("RedeclareRequiredMissing", func(t *testing.T) {
		before := seq()
		l := redeclared(func(l *layers.Layer) {
			l.Schema = append(l.Schema, layers.Field{Name: "operator", Type: layers.String, Required: true})
		})
		err := s.RedeclareLayer(ctx, l, ed)
		if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), "stored feature 1:") || !strings.Contains(err.Error(), `"operator"`) {
			t.Fatalf("RedeclareLayer adding a required field: %v, want EINVALID naming feature 1 and operator", err)
		}
		if got := layer("parks"); got.Field("operator") != nil || seq() != before {
			t.Errorf("a refused redeclaration changed the layer or the change log")
		}
	})
	t.Run("RedeclareRuleBroken", func(t *testing.T) {
		before := seq()
		l := redeclared(func(l *layers.Layer) { l.Rules = append(l.Rules, layers.Rule{MinAreaHa: 1e6}) })
		err := s.RedeclareLayer(ctx, l, ed)
		if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), "stored feature 1:") {
			t.Fatalf("RedeclareLayer with minAreaHa 1e6: %v, want EINVALID naming feature 1", err)
		}
		if got := layer("parks"); len(got.Rules) != len(parks.Rules) || seq() != before {
			t.Errorf("a refused redeclaration changed the rules or the change log: %v", got.Rules)
		}
	})
	t.Run("RedeclareNotFound", func(t *testing.T) {
		l := redeclared(func(l *layers.Layer) { l.ID = "nowhere" })
		if err := s.RedeclareLayer(ctx, l, ed); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("RedeclareLayer of a layer there is not: %v, want ENOTFOUND", err)
		}
	})
	t.Run("RedeclareCompatible", func(t *testing.T) {
		before := seq()
		l := redeclared(func(l *layers.Layer) {
			l.Title.En = "Parks and green space"
			l.Schema = append(l.Schema, layers.Field{Name: "operator", Type: layers.String})
			l.Rules = append(l.Rules, layers.Rule{MinAreaHa: 0.01})
		})
		if err := s.RedeclareLayer(ctx, l, ed); err != nil {
			t.Fatal(err)
		}
		got := layer("parks")
		if got.Title.En != "Parks and green space" || got.Field("operator") == nil || len(got.Rules) != len(parks.Rules)+1 {
			t.Errorf("after RedeclareLayer: %+v", got)
		}
		if cs, _ := s.Changes(ctx, before, 10); len(cs) != 1 || cs[0].Op != layers.OpLayer || cs[0].Layer != "parks" {
			t.Errorf("change log after a redeclaration: %+v, want one layer row of parks", cs)
		}
		if _, err := s.Item(ctx, "parks", 1); err != nil {
			t.Errorf("feature 1 after a redeclaration: %v", err)
		}
	})
	t.Run("Drop", func(t *testing.T) {
		its, _, err := s.Items(ctx, "terminals", layers.Filter{}, layers.Page{Limit: 1000})
		if err != nil || len(its) == 0 {
			t.Fatalf("terminals: %v, %d", err, len(its))
		}
		terminals := layer("terminals")
		before := seq()
		if err := s.DropLayer(ctx, "terminals", layers.Edit{Author: "root", Note: "withdrawn"}); err != nil {
			t.Fatal(err)
		}
		if layer("terminals") != nil {
			t.Errorf("the catalog still has terminals")
		}
		cs, _ := s.Changes(ctx, before, 10000)
		if len(cs) == 0 || cs[len(cs)-1].Op != layers.OpLayer || cs[len(cs)-1].Layer != "terminals" {
			t.Errorf("the change log does not end with the drop of terminals: %+v", cs)
		}
		if err := s.DropLayer(ctx, "terminals", ed); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("DropLayer again: %v, want ENOTFOUND", err)
		}
		// Declared again, its old features are deleted ones, with their
		// versions; a new feature gets an id after all of theirs.
		if err := s.DeclareLayer(ctx, terminals, ed); err != nil {
			t.Fatal(err)
		}
		var top int64
		for _, it := range its {
			top = max(top, it.ID)
			vs, err := s.Versions(ctx, "terminals", it.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) < 2 || vs[0].Op != layers.OpDelete || vs[0].Author != "root" || vs[0].Note != "withdrawn" || vs[1].Item == nil ||
				vs[1].Item.Properties()["name_zh"] != it.Properties()["name_zh"] {
				t.Errorf("versions of terminal %d after the drop: %+v", it.ID, vs)
			}
			if _, err := s.Item(ctx, "terminals", it.ID); layers.ErrorCode(err) != layers.EGONE {
				t.Errorf("terminal %d after the drop: %v, want EGONE", it.ID, err)
			}
		}
		f := its[0].Feature()
		it, err := s.Create(ctx, "terminals", f, ed)
		if err != nil {
			t.Fatal(err)
		}
		if it.ID <= top {
			t.Errorf("a new terminal got id %d; the dropped layer used up to %d", it.ID, top)
		}
	})
}

// parksPoint is a point inside the seed's park 1, where a feature breaks
// no rule of the seed's.
func parksPoint(t *testing.T, s AdminStore) orb.Point {
	t.Helper()
	it, err := s.Item(context.Background(), "parks", 1)
	if err != nil {
		t.Fatal(err)
	}
	return it.Bound.Center()
}
