package seeds_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// memory holds the seed features as a store would, for the rules' bbox
// queries.
type memory map[string][]layers.Feature

func (m memory) neighbours(_ context.Context, layer string, b orb.Bound) ([]layers.Feature, error) {
	var out []layers.Feature
	for _, f := range m[layer] {
		if geo.IntersectsBound(f.Geometry, b) {
			out = append(out, f)
		}
	}
	return out, nil
}

func (m memory) features(_ context.Context, layer string, fn func(layers.Feature) error) error {
	for _, f := range m[layer] {
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func seedRules(t *testing.T) ([]*layers.Layer, memory) {
	t.Helper()
	files, err := readFiles()
	if err != nil {
		t.Fatal(err)
	}
	var all []*layers.Layer
	m := memory{}
	for _, f := range files {
		all = append(all, f.Layer)
		m[f.LayerID] = f.Features
	}
	return all, m
}

// The seeds declare as rules what the spatial tests above check by
// computation (land parcels do not overlap, resettlement stays off the
// sea, everything but the sea and the context lies in the district, the
// context stays out of it, resettlement blocks of at least a hectare), and
// keep them.
func TestSeedsKeepTheirRules(t *testing.T) {
	all, m := seedRules(t)
	declared := map[string]bool{}
	for _, l := range all {
		for _, r := range l.Rules {
			declared[l.ID+" "+r.Kind()] = true
		}
	}
	for _, want := range []string{
		"industry notOverlapping", "resettlement notOverlapping", "facilities notOverlapping", "parks notOverlapping", "stations notOverlapping", "terminals notOverlapping",
		"industry within", "resettlement within", "facilities within", "parks within", "stations within", "terminals within",
		"roads within", "railways within", "rivers within", "monitoring within",
		"context notOverlapping", "resettlement minAreaHa",
	} {
		if !declared[want] {
			t.Errorf("no rule %s declared", want)
		}
	}
	vs, err := layers.Audit(context.Background(), m.neighbours, all, m.features)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Error(v.Error())
	}
}

// A resettlement block moved onto the eco-park breaks the rules: the test
// above could fail.
func TestSeedRulesRefuse(t *testing.T) {
	all, m := seedRules(t)
	var resettlement *layers.Layer
	for _, l := range all {
		if l.ID == "resettlement" {
			resettlement = l
		}
	}
	var park layers.Feature
	for _, f := range m["parks"] {
		if f.Properties["name_zh"] == "海港生态公园" {
			park = f
		}
	}
	block := m["resettlement"][0]
	moved := block
	moved.Geometry = park.Geometry
	err := layers.CheckRules(context.Background(), m.neighbours, all, resettlement, moved, block.Geometry)
	if err == nil || !strings.Contains(err.Error(), "overlaps parks 1 (海港生态公园 / Harbour Eco-Park)") {
		t.Errorf("CheckRules(block moved onto the park) = %v, want it to overlap parks 1", err)
	}
}
