package layers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/layerstest"
	"planmap/seeds"
)

// TestCheckRulesOnStore checks writes to the seeds against their rules,
// reading the neighbours from a real GeoPackage store through its Items
// with a bbox filter, as planmap check --rules does.
func TestCheckRulesOnStore(t *testing.T) {
	ctx := context.Background()
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatal(err)
	}
	s := layerstest.MustOpen(t)
	if _, err := s.Import(ctx, files, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	// The declarations as the files give them, rules and all.
	var all []*layers.Layer
	for _, f := range files {
		all = append(all, f.Layer)
	}
	n := layers.ItemsNeighbours(s.Items)
	item := func(layer, nameZh string) layers.Feature {
		t.Helper()
		its, _, err := s.Items(ctx, layer, layers.Filter{Equals: map[string]any{"name_zh": nameZh}}, layers.Page{Limit: 1})
		if err != nil || len(its) != 1 {
			t.Fatalf("%s %s: %v, %d items", layer, nameZh, err, len(its))
		}
		return its[0].Feature()
	}
	park := item("parks", "海港生态公园")
	terminal := item("terminals", "中天内河码头")
	boundary := item("boundary", "海门港新区（包场镇）")

	t.Run("OKUnchanged", func(t *testing.T) {
		for _, f := range []struct {
			layer string
			f     layers.Feature
		}{{"parks", park}, {"terminals", terminal}, {"boundary", boundary}} {
			if err := layers.CheckRules(ctx, n, all, layerOf(all, f.layer), f.f, f.f.Geometry); err != nil {
				t.Errorf("CheckRules(%s %d as it is) = %v", f.layer, f.f.ID, err)
			}
		}
	})
	t.Run("ErrTerminalOntoPark", func(t *testing.T) {
		moved := terminal
		moved.Geometry = park.Geometry
		err := layers.CheckRules(ctx, n, all, layerOf(all, "terminals"), moved, terminal.Geometry)
		for _, want := range []string{
			") overlaps parks 1 (海港生态公园 / Harbour Eco-Park) by ",
			"parks 1 (海港生态公园 / Harbour Eco-Park) overlaps terminals ",
		} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("CheckRules(terminal moved onto the park) = %v\nwant it to say %q", err, want)
			}
		}
	})
	t.Run("ErrBoundaryShrunk", func(t *testing.T) {
		b := boundary.Geometry.Bound()
		c := b.Center()
		shrunk := boundary
		shrunk.Geometry = orb.MultiPolygon{orb.Bound{Min: b.Min, Max: orb.Point{c[0], b.Max[1]}}.ToPolygon()}
		err := layers.CheckRules(ctx, n, all, layerOf(all, "boundary"), shrunk, boundary.Geometry)
		if err == nil || !strings.Contains(err.Error(), "outside boundary 1 (海门港新区（包场镇）") {
			t.Errorf("CheckRules(boundary cut in half) = %v, want features outside it", err)
		}
	})
}

// BenchmarkCheckRules checks one parcel of a layer of 20,000 against its
// neighbours in a real store: the cost a write pays for the rules.
func BenchmarkCheckRules(b *testing.B) {
	ctx := context.Background()
	f, err := layers.ParseFile("parcels.geojson", layerstest.Parcels(20000))
	if err != nil {
		b.Fatal(err)
	}
	s := layerstest.MustOpen(b)
	if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	l := *f.Layer
	l.Rules = []layers.Rule{{NotOverlapping: []string{"parcels"}, ToleranceM2: 1}, {MinAreaHa: 0.01}}
	all := []*layers.Layer{&l}
	its, _, err := s.Items(ctx, "parcels", layers.Filter{}, layers.Page{After: 10000, Limit: 1})
	if err != nil || len(its) != 1 {
		b.Fatal(err)
	}
	p := its[0].Feature()
	n := layers.ItemsNeighbours(s.Items)
	for b.Loop() {
		if err := layers.CheckRules(ctx, n, all, &l, p, p.Geometry); err != nil {
			b.Fatal(err)
		}
	}
}
