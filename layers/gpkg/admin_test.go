package gpkg_test

import (
	"context"
	"strings"
	"testing"

	"planmap/layers"
)

// TestLayerAdmin: a layer declared, redeclared and dropped through the
// store. A redeclaration that a stored feature breaks, by a field or by a
// planning rule, is refused naming it and changes nothing; a dropped
// layer leaves its history, and the change log says so.
func TestLayerAdmin(t *testing.T) {
	ctx := context.Background()
	s := seededStore(t)
	ed := layers.Edit{Author: "root", Note: "test"}
	seq := func() int64 {
		t.Helper()
		c, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c.Seq
	}
	parks, err := s.Layer(ctx, "parks")
	if err != nil {
		t.Fatal(err)
	}
	redeclared := func(change func(l *layers.Layer)) *layers.Layer {
		l := *parks
		l.Schema = append([]layers.Field(nil), parks.Schema...)
		l.Rules = append([]layers.Rule(nil), parks.Rules...)
		change(&l)
		return &l
	}

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
		if got, _ := s.Layer(ctx, "parks"); got.Field("operator") != nil || seq() != before {
			t.Errorf("a refused redeclaration changed the layer or the change log")
		}
	})
	t.Run("RedeclareRuleBroken", func(t *testing.T) {
		l := redeclared(func(l *layers.Layer) { l.Rules = append(l.Rules, layers.Rule{MinAreaHa: 1e6}) })
		err := s.RedeclareLayer(ctx, l, ed)
		if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), "stored feature 1:") {
			t.Fatalf("RedeclareLayer with minAreaHa 1e6: %v, want EINVALID naming feature 1", err)
		}
		if got, _ := s.Layer(ctx, "parks"); len(got.Rules) != len(parks.Rules) {
			t.Errorf("a refused redeclaration changed the rules: %v", got.Rules)
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
		got, _ := s.Layer(ctx, "parks")
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
		terminals, _ := s.Layer(ctx, "terminals")
		before := seq()
		if err := s.DropLayer(ctx, "terminals", layers.Edit{Author: "root", Note: "withdrawn"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Layer(ctx, "terminals"); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("Layer(terminals) after the drop: %v, want ENOTFOUND", err)
		}
		cat, _ := s.Catalog(ctx)
		if _, ok := cat.Collection("terminals"); ok {
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
			top = max(top, it.Feature.ID)
			vs, err := s.Versions(ctx, "terminals", it.Feature.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(vs) < 2 || vs[0].Op != layers.OpDelete || vs[0].Author != "root" || vs[0].Note != "withdrawn" || vs[1].Item == nil ||
				vs[1].Item.Properties["name_zh"] != it.Properties["name_zh"] {
				t.Errorf("versions of terminal %d after the drop: %+v", it.Feature.ID, vs)
			}
			if _, err := s.Item(ctx, "terminals", it.Feature.ID); layers.ErrorCode(err) != layers.EGONE {
				t.Errorf("terminal %d after the drop: %v, want EGONE", it.Feature.ID, err)
			}
		}
		f := its[0].Feature
		it, err := s.Create(ctx, "terminals", f, ed)
		if err != nil {
			t.Fatal(err)
		}
		if it.Feature.ID <= top {
			t.Errorf("a new terminal got id %d; the dropped layer used up to %d", it.Feature.ID, top)
		}
	})
}
