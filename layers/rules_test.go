package layers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// declaration returns a layer file of layer id with the given geometry
// type and rules member, and no features.
func declaration(id, geometryType, rules string) string {
	return fmt.Sprintf(`{"type": "FeatureCollection", "id": %q, "title": {"zh": "层", "en": "Layer"},
		"geometryType": %q, "schema": [{"name": "name_zh", "type": "string", "description": {"zh": "名", "en": "Name"}}],
		"rules": %s, "features": []}`, id, geometryType, rules)
}

func TestRulesDeclared(t *testing.T) {
	const rules = `[{"notOverlapping": ["parks", "terminals", "water"], "toleranceM2": 1}, {"within": "boundary", "toleranceM": 0.5}, {"minAreaHa": 1}]`
	f, err := layers.ParseFile("parks.geojson", []byte(declaration("parks", "MultiPolygon", rules)))
	if err != nil {
		t.Fatal(err)
	}
	want := []layers.Rule{
		{NotOverlapping: []string{"parks", "terminals", "water"}, ToleranceM2: 1},
		{Within: "boundary", ToleranceM: 0.5},
		{MinAreaHa: 1},
	}
	if !reflect.DeepEqual(f.Layer.Rules, want) {
		t.Fatalf("ParseFile: rules %+v, want %+v", f.Layer.Rules, want)
	}
	// The declaration as planmap writes it (layers.Marshal, the API's
	// collection) reads back the same.
	b, err := layers.Marshal(f.Layer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"rules":[{"notOverlapping":["parks","terminals","water"],"toleranceM2":1}`) {
		t.Errorf("Marshal(layer) = %s, want its rules", b)
	}
	back, err := layers.ParseDeclaration("parks.json", b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Rules, want) {
		t.Errorf("ParseDeclaration(Marshal(layer)): rules %+v, want %+v", back.Rules, want)
	}
	var viaJSON layers.Layer
	if err := json.Unmarshal(b, &viaJSON); err != nil || !reflect.DeepEqual(viaJSON.Rules, want) {
		t.Errorf("json.Unmarshal(Marshal(layer)): rules %+v, %v; want %+v", viaJSON.Rules, err, want)
	}
}

func TestRulesRefused(t *testing.T) {
	tests := []struct {
		name, geometryType, rules, want string
	}{
		{"ErrUnknownKind", "MultiPolygon", `[{"touching": ["parks"]}]`, `unknown rule member "touching": a rule is one of notOverlapping`},
		{"ErrTwoKinds", "MultiPolygon", `[{"within": "boundary", "minAreaHa": 1}]`, `a rule is exactly one of notOverlapping, within and minAreaHa`},
		{"ErrNoKind", "MultiPolygon", `[{"toleranceM": 1}]`, `a rule is exactly one of`},
		{"ErrNegativeToleranceM2", "MultiPolygon", `[{"notOverlapping": ["parks"], "toleranceM2": -1}]`, `toleranceM2 must be a number of at least 0`},
		{"ErrNegativeToleranceM", "MultiPolygon", `[{"within": "boundary", "toleranceM": -0.5}]`, `toleranceM must be a number of at least 0`},
		{"ErrToleranceOfOtherKind", "MultiPolygon", `[{"within": "boundary", "toleranceM2": 1}]`, `toleranceM2 goes with notOverlapping`},
		{"ErrZeroArea", "MultiPolygon", `[{"minAreaHa": -2}]`, `minAreaHa must be a number above 0`},
		{"ErrEmptyList", "MultiPolygon", `[{"notOverlapping": []}]`, `notOverlapping lists no layer`},
		{"ErrBadID", "MultiPolygon", `[{"notOverlapping": ["Parks"]}]`, `"Parks" is not a layer id`},
		{"ErrWithinItself", "MultiPolygon", `[{"within": "parks"}]`, `a layer cannot be within itself`},
		{"ErrAreaRuleOfLines", "MultiLineString", `[{"minAreaHa": 1}]`, `minAreaHa is a rule of areas, and this layer holds MultiLineString`},
		{"ErrWrongType", "MultiPolygon", `[{"within": 3}]`, `rules: rule {"within": 3}: cannot unmarshal number`},
		{"ErrNotAList", "MultiPolygon", `{"within": "boundary"}`, `rules: cannot unmarshal object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := layers.ParseFile("parks.geojson", []byte(declaration("parks", tt.geometryType, tt.rules)))
			if err == nil || !strings.Contains(err.Error(), tt.want) || layers.ErrorCode(err) != layers.EINVALID {
				t.Fatalf("ParseFile(rules %s) = %v, want EINVALID with %q", tt.rules, err, tt.want)
			}
		})
	}
	// What one file cannot know: the layers its rules name, among the
	// other files or the store.
	t.Run("ErrUnknownLayer", func(t *testing.T) {
		parks, err := layers.ParseFile("parks.geojson", []byte(declaration("parks", "MultiPolygon", `[{"notOverlapping": ["terminals", "water"]}, {"within": "boundary"}]`)))
		if err != nil {
			t.Fatal(err)
		}
		roads, err := layers.ParseFile("water.geojson", []byte(declaration("water", "MultiLineString", `[]`)))
		if err != nil {
			t.Fatal(err)
		}
		terminals, err := layers.ParseFile("terminals.geojson", []byte(declaration("terminals", "MultiPolygon", `[]`)))
		if err != nil {
			t.Fatal(err)
		}
		err = layers.CheckFiles(context.Background(), nil, []*layers.File{parks, roads, terminals}, false)
		want := `parks.geojson: rule 0 {"notOverlapping":["terminals","water"]}: layer water holds MultiLineString, and the rule needs polygons`
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "terminals does not exist") {
			t.Errorf("CheckFiles = %v, want only %q", err, want)
		}
		// A layer that does not exist yet is a warning: the layers of a
		// plan name each other, and are imported one by one.
		missing := `parks.geojson: rule 1 {"within":"boundary"}: layer boundary does not exist; the rule holds trivially until it does`
		if !slices.Contains(parks.Warnings, missing) {
			t.Errorf("CheckFiles: warnings %q, want %q", parks.Warnings, missing)
		}
		// A stored layer counts.
		parks.Warnings = nil
		stored := func(_ context.Context, id string) (*layers.Layer, error) {
			if id == "boundary" || id == "water" {
				return &layers.Layer{ID: id, GeometryType: "MultiPolygon"}, nil
			}
			return nil, layers.Errorf(layers.ENOTFOUND, "layer %q does not exist", id)
		}
		if err := layers.CheckFiles(context.Background(), stored, []*layers.File{parks, terminals}, false); err != nil || len(parks.Warnings) != 0 {
			t.Errorf("CheckFiles with boundary and water stored = %v, warnings %q; want neither", err, parks.Warnings)
		}
	})
}

// The features of the rule tests are drawn in metres east and north of a
// point in the district.
func m(x, y float64) orb.Point {
	const k = math.Pi / 180 * 6371008.8
	return orb.Point{121.5 + x/(k*math.Cos(32.1*math.Pi/180)), 32.1 + y/k}
}

func rectangle(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{m(x0, y0), m(x1, y0), m(x1, y1), m(x0, y1), m(x0, y0)}}}
}

// world is a store in memory: its Neighbours is what a store's bbox
// query returns.
type world map[string][]layers.Feature

func (w world) neighbours(_ context.Context, layer string, b orb.Bound) ([]layers.Feature, error) {
	var out []layers.Feature
	for _, f := range w[layer] {
		if geo.IntersectsBound(f.Geometry, b) {
			out = append(out, f)
		}
	}
	return out, nil
}

func (w world) features(_ context.Context, layer string, fn func(layers.Feature) error) error {
	for _, f := range w[layer] {
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func feature(id int64, name string, g orb.Geometry) layers.Feature {
	return layers.Feature{ID: id, Properties: map[string]any{"name_zh": name}, Geometry: g}
}

func ruleLayers() []*layers.Layer {
	return []*layers.Layer{
		{ID: "boundary", GeometryType: "MultiPolygon"},
		{ID: "parks", GeometryType: "MultiPolygon", Rules: []layers.Rule{
			{NotOverlapping: []string{"parks", "terminals"}, ToleranceM2: 1},
			{Within: "boundary", ToleranceM: 0.5},
			{MinAreaHa: 1},
		}},
		{ID: "terminals", GeometryType: "MultiPolygon"},
		{ID: "monitoring", GeometryType: "Point", Rules: []layers.Rule{{Within: "boundary"}}},
	}
}

func layerOf(all []*layers.Layer, id string) *layers.Layer {
	for _, l := range all {
		if l.ID == id {
			return l
		}
	}
	return nil
}

func TestCheckRules(t *testing.T) {
	all := ruleLayers()
	// A district of 1 km², a park of 4 ha in it and a terminal east of
	// the park, touching it.
	base := func() world {
		return world{
			"boundary":   {feature(1, "新区", rectangle(0, 0, 1000, 1000))},
			"parks":      {feature(1, "公园", rectangle(100, 100, 300, 300))},
			"terminals":  {feature(7, "码头", rectangle(300, 100, 400, 300))},
			"monitoring": {feature(2, "站位", orb.MultiPoint{m(500, 500)})},
		}
	}
	tests := []struct {
		name  string
		layer string
		f     layers.Feature
		was   orb.Geometry
		want  []string // each in the error; none: no error
	}{
		{"OK", "parks", feature(1, "公园", rectangle(100, 100, 300, 300)), rectangle(100, 100, 300, 300), nil},
		{"OKNewTouching", "parks", feature(0, "新公园", rectangle(400, 100, 600, 300)), nil, nil},
		{"OKSliverWithinTolerance", "terminals", feature(7, "码头", rectangle(299.995, 100, 400, 300)), nil, nil},
		{"ErrParkOverTerminal", "parks", feature(1, "公园", rectangle(100, 100, 320, 300)),
			rectangle(100, 100, 300, 300),
			[]string{"parks 1 (公园) overlaps terminals 7 (码头) by 4000 m², more than the 1 m² rule notOverlapping of layer parks allows"}},
		// From the other side: the terminal moves onto the park, which
		// declares the rule.
		{"ErrTerminalOverPark", "terminals", feature(7, "码头", rectangle(250, 100, 400, 300)), rectangle(300, 100, 400, 300),
			[]string{"parks 1 (公园) overlaps terminals 7 (码头) by 10000 m²"}},
		// A park of its own layer: itself (the same id) does not count.
		{"ErrParkOverPark", "parks", feature(0, "新公园", rectangle(200, 200, 500, 500)), nil,
			[]string{"the new feature of parks (新公园) overlaps parks 1 (公园) by 10000 m²"}},
		{"OKParkOverItself", "parks", feature(1, "公园", rectangle(150, 150, 300, 300)), rectangle(100, 100, 300, 300), nil},
		{"OKWithinTolerance", "parks", feature(1, "公园", rectangle(-0.3, 100, 200, 300)), rectangle(100, 100, 300, 300), nil},
		{"ErrOutOfBoundary", "parks", feature(1, "公园", rectangle(-1, 100, 200, 300)), rectangle(100, 100, 300, 300),
			[]string{"parks 1 (公园) reaches 1.00 m outside boundary 1 (新区), more than the 0.5 m rule within boundary of layer parks allows"}},
		{"ErrFarOut", "parks", feature(1, "公园", rectangle(2000, 100, 2200, 300)), rectangle(100, 100, 300, 300),
			[]string{"parks 1 (公园) lies outside every feature of layer boundary"}},
		{"ErrSmall", "parks", feature(1, "公园", rectangle(100, 100, 150, 150)), rectangle(100, 100, 300, 300),
			[]string{"parks 1 (公园) covers 0.25 ha, less than the 1 ha rule minAreaHa of layer parks asks"}},
		// Moving the boundary is checked against every layer within it.
		{"OKBoundaryGrows", "boundary", feature(1, "新区", rectangle(-10, -10, 1000, 1000)), rectangle(0, 0, 1000, 1000), nil},
		{"ErrBoundaryShrinks", "boundary", feature(1, "新区", rectangle(0, 0, 250, 1000)), rectangle(0, 0, 1000, 1000),
			[]string{"parks 1 (公园) reaches 50.00 m outside boundary 1 (新区)", "monitoring 2 (站位) lies outside every feature of layer boundary"}},
		{"ErrBoundaryDeleted", "boundary", layers.Feature{ID: 1}, rectangle(0, 0, 1000, 1000),
			[]string{"parks 1 (公园) lies outside every feature of layer boundary", "monitoring 2 (站位) lies outside every feature of layer boundary"}},
		// A second boundary feature beside the first: a park may
		// straddle the two.
		{"OKAcrossTwoBoundaries", "boundary", feature(2, "扩区", rectangle(1000, 0, 2000, 1000)), nil, nil},
		{"OKDeleteTerminal", "terminals", layers.Feature{ID: 7}, rectangle(300, 100, 400, 300), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := base()
			err := layers.CheckRules(context.Background(), w.neighbours, all, layerOf(all, tt.layer), tt.f, tt.was)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("CheckRules = %v, want nil", err)
				}
				return
			}
			if err == nil || layers.ErrorCode(err) != layers.EINVALID {
				t.Fatalf("CheckRules = %v, want EINVALID", err)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("CheckRules = %v\nwant it to say %q", err, want)
				}
			}
		})
	}
	t.Run("StraddlingTwoBoundaries", func(t *testing.T) {
		w := base()
		w["boundary"] = append(w["boundary"], feature(2, "扩区", rectangle(1000, 0, 2000, 1000)))
		park := feature(1, "公园", rectangle(900, 100, 1100, 300))
		if err := layers.CheckRules(context.Background(), w.neighbours, all, layerOf(all, "parks"), park, nil); err != nil {
			t.Errorf("CheckRules(park across two touching boundary features) = %v, want nil", err)
		}
	})
}

func TestAudit(t *testing.T) {
	all := ruleLayers()
	w := world{
		"boundary": {feature(1, "新区", rectangle(0, 0, 1000, 1000))},
		"parks": {
			feature(1, "公园", rectangle(100, 100, 300, 300)),
			feature(2, "二园", rectangle(200, 100, 400, 300)),  // overlaps park 1
			feature(3, "三园", rectangle(400, 100, 600, 300)),  // touches park 2
			feature(4, "四园", rectangle(900, 500, 1100, 700)), // out of the district
		},
		"terminals":  {feature(7, "码头", rectangle(550, 100, 650, 300))}, // overlaps park 3
		"monitoring": {feature(2, "站位", orb.MultiPoint{m(500, 500)})},
	}
	vs, err := layers.Audit(context.Background(), w.neighbours, all, w.features)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.Error())
	}
	want := []string{
		"parks 1 (公园) overlaps parks 2 (二园) by 20000 m², more than the 1 m² rule notOverlapping of layer parks allows",
		"parks 3 (三园) overlaps terminals 7 (码头) by 10000 m², more than the 1 m² rule notOverlapping of layer parks allows",
		"parks 4 (四园) reaches 100.00 m outside boundary 1 (新区), more than the 0.5 m rule within boundary of layer parks allows",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
