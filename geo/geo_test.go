package geo

import (
	"errors"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkt"
)

func TestDecodeGeoJSON(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  orb.Geometry
		hasZ  bool
		error error
	}{
		{"Point", `{"type":"Point","coordinates":[121.5,32.1]}`, orb.Point{121.5, 32.1}, false, nil},
		{"PointZ", `{"type":"Point","coordinates":[121.5,32.1,4]}`, orb.Point{121.5, 32.1}, true, nil},
		{"Null", `null`, nil, false, nil},
		{"MultiLineString", `{"type":"MultiLineString","coordinates":[[[0,0],[1,1]]]}`,
			orb.MultiLineString{{{0, 0}, {1, 1}}}, false, nil},
		{"MultiPolygon", `{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}`,
			orb.MultiPolygon{{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}}, false, nil},
		{"ErrUnknownType", `{"type":"Circle","coordinates":[0,0]}`, nil, false, ErrUnknownType},
		{"ErrCollection", `{"type":"GeometryCollection","geometries":[]}`, nil, false, ErrCollection},
		{"ErrNoCoordinates", `{"type":"Point"}`, nil, false, ErrNoCoordinates},
		{"ErrNesting", `{"type":"Polygon","coordinates":[[0,0],[1,0],[1,1],[0,0]]}`, nil, false, ErrBadNesting},
		{"ErrStringCoordinate", `{"type":"Point","coordinates":["121.5",32.1]}`, nil, false, ErrBadPosition},
		{"ErrOneNumber", `{"type":"Point","coordinates":[121.5]}`, nil, false, ErrBadPosition},
		{"ErrHuge", `{"type":"Point","coordinates":[1e400,0]}`, nil, false, ErrNonFinite},
		{"ErrNotObject", `[1,2]`, nil, false, ErrNotObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, hasZ, err := DecodeGeoJSON([]byte(tt.in))
			if !errors.Is(err, tt.error) {
				t.Fatalf("DecodeGeoJSON(%s) error = %v, want %v", tt.in, err, tt.error)
			}
			if err != nil {
				return
			}
			if !orb.Equal(orOrbNil(g), orOrbNil(tt.want)) || hasZ != tt.hasZ {
				t.Errorf("DecodeGeoJSON(%s) = %v, %v; want %v, %v", tt.in, g, hasZ, tt.want, tt.hasZ)
			}
		})
	}
}

func orOrbNil(g orb.Geometry) orb.Geometry {
	if g == nil {
		return orb.Collection{}
	}
	return g
}

func square(x, y, s float64) orb.Ring {
	return orb.Ring{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}, {x, y}}
}

// cShape is a square with a notch open to the east: x 1..4, y 1..3.
var cShape = orb.Ring{{0, 0}, {4, 0}, {4, 1}, {1, 1}, {1, 3}, {4, 3}, {4, 4}, {0, 4}, {0, 0}}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		g    orb.Geometry
		want error
	}{
		{"OK/Nil", nil, nil},
		{"OK/Point", orb.Point{121, 32}, nil},
		{"OK/Square", orb.Polygon{square(0, 0, 1)}, nil},
		{"OK/Hole", orb.Polygon{square(0, 0, 4), square(1, 1, 1)}, nil},
		{"OK/HoleTouchingShell", orb.Polygon{square(0, 0, 4), {{0, 0}, {1, 1}, {1, 2}, {0, 0}}}, nil},
		{"OK/TwoPolygons", orb.MultiPolygon{{square(0, 0, 1)}, {square(2, 0, 1)}}, nil},
		{"ErrPolygonsSharingEdge", orb.MultiPolygon{{square(0, 0, 1)}, {square(1, 0, 1)}}, ErrPolygonsOverlap},
		{"OK/IslandInHole", orb.MultiPolygon{{square(0, 0, 10), square(2, 2, 6)}, {square(4, 4, 1)}}, nil},
		{"OK/Line", orb.LineString{{0, 0}, {1, 1}}, nil},
		{"ErrNaN", orb.Point{math.NaN(), 1}, ErrNonFinite},
		{"ErrInf", orb.LineString{{0, 0}, {math.Inf(1), 1}}, ErrNonFinite},
		{"ErrLatitude", orb.Point{121, 95}, ErrOutOfRange},
		{"ErrLongitude", orb.Point{13500000, 3700000}, ErrOutOfRange},
		{"ErrLineOnePoint", orb.LineString{{1, 1}, {1, 1}}, ErrLineTooShort},
		{"ErrNotClosed", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}, ErrRingNotClosed},
		{"ErrTooShort", orb.Polygon{{{0, 0}, {1, 0}, {0, 0}}}, ErrRingTooShort},
		{"ErrBowtie", orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}, ErrSelfIntersects},
		{"ErrSpike", orb.Polygon{{{0, 0}, {2, 0}, {1, 0}, {1, 1}, {0, 0}}}, ErrSelfIntersects},
		{"ErrSelfTouch", orb.Polygon{{{0, 0}, {2, 0}, {1, 1}, {2, 2}, {0, 2}, {1, 1}, {0, 0}}}, ErrSelfIntersects},
		{"ErrHoleOutside", orb.Polygon{square(0, 0, 1), square(5, 5, 1)}, ErrHoleOutside},
		{"ErrHoleCrossesShell", orb.Polygon{square(0, 0, 2), square(1, 1, 2)}, ErrRingsCross},
		{"ErrHoleInHole", orb.Polygon{square(0, 0, 10), square(1, 1, 8), square(2, 2, 1)}, ErrHoleInHole},
		{"ErrOverlap", orb.MultiPolygon{{square(0, 0, 2)}, {square(1, 1, 2)}}, ErrPolygonsOverlap},
		{"ErrContained", orb.MultiPolygon{{square(0, 0, 10)}, {square(1, 1, 2)}}, ErrPolygonsOverlap},
		{"ErrEmptyMulti", orb.MultiPolygon{}, ErrEmptyGeometry},
		{"OK/HoleTouchingShellOnce", orb.Polygon{square(0, 0, 4), {{0, 2}, {2, 1}, {3, 2}, {2, 3}, {0, 2}}}, nil},
		{"OK/HolesTouchingOnce", orb.Polygon{square(0, 0, 10), square(1, 1, 2), square(3, 3, 2)}, nil},
		{"OK/TriangleInNotchOfC", orb.MultiPolygon{{cShape}, {{{1, 2}, {4, 1}, {4, 3}, {1, 2}}}}, nil},
		{"ErrHoleThroughShellCorners", orb.Polygon{square(0, 0, 4), {{2, 2}, {6, -2}, {6, 6}, {2, 2}}}, ErrHoleOutside},
		{"ErrHoleInNotchOfC", orb.Polygon{cShape, {{1, 2}, {4, 1}, {4, 3}, {1, 2}}}, ErrHoleOutside},
		{"ErrTriangleThroughSquareCorners", orb.MultiPolygon{{square(0, 0, 4)}, {{{6, 6}, {2, 2}, {6, -2}, {6, 6}}}}, ErrPolygonsOverlap},
		{"ErrHoleTouchingShellTwice", orb.Polygon{square(0, 0, 4), {{0, 2}, {2, 1}, {4, 2}, {2, 3}, {0, 2}}}, ErrDisconnected},
		{"ErrHoleChainAcross", orb.Polygon{square(0, 0, 6),
			{{0, 3}, {1.5, 2}, {3, 3}, {1.5, 4}, {0, 3}}, {{3, 3}, {4.5, 2}, {6, 3}, {4.5, 4}, {3, 3}}}, ErrDisconnected},
		{"ErrOverlappingHoles", orb.Polygon{square(0, 0, 10), square(1, 1, 3), square(2, 2, 3)}, ErrRingsCross},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Validate(tt.g)
			if !errors.Is(err, tt.want) {
				t.Errorf("Validate(%v) = %v, want %v", tt.g, err, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	cw := orb.Ring{{0, 0}, {0, 1}, {1, 1}, {1, 0}, {0, 0}}
	t.Run("WindsExteriorCCWAndHolesCW", func(t *testing.T) {
		hole := orb.Ring{{0.2, 0.2}, {0.4, 0.2}, {0.4, 0.4}, {0.2, 0.2}} // CCW
		g := Normalize(orb.Polygon{cw, hole}, false).(orb.Polygon)
		if g[0].Orientation() != orb.CCW || g[1].Orientation() != orb.CW {
			t.Errorf("Normalize gave orientations %v, %v; want CCW, CW", g[0].Orientation(), g[1].Orientation())
		}
		if cw.Orientation() != orb.CW {
			t.Errorf("Normalize modified its input")
		}
	})
	t.Run("PromotesToMulti", func(t *testing.T) {
		if _, ok := Normalize(orb.Polygon{cw}, true).(orb.MultiPolygon); !ok {
			t.Errorf("Normalize(Polygon, multi) is not a MultiPolygon")
		}
		if _, ok := Normalize(orb.LineString{{0, 0}, {1, 1}}, true).(orb.MultiLineString); !ok {
			t.Errorf("Normalize(LineString, multi) is not a MultiLineString")
		}
	})
	t.Run("RoundsAndDropsRepeats", func(t *testing.T) {
		in := orb.LineString{{121.123456789, 32.1}, {121.12345679, 32.10000001}, {121.2, 32.2}}
		got := Normalize(in, false).(orb.LineString)
		want := orb.LineString{{121.1234568, 32.1}, {121.2, 32.2}}
		if !orb.Equal(got, want) {
			t.Errorf("Normalize(%v) = %v, want %v", in, got, want)
		}
	})
}

func TestGPKGRoundTrip(t *testing.T) {
	for _, g := range []orb.Geometry{
		orb.Point{121.5, 32.1},
		orb.MultiPoint{{1, 2}, {3, 4}},
		orb.LineString{{0, 0}, {1, 1}},
		orb.MultiLineString{{{0, 0}, {1, 1}}, {{2, 2}, {3, 1}}},
		orb.Polygon{square(121, 32, 0.5)},
		orb.MultiPolygon{{square(121, 32, 0.5)}, {square(122, 32, 0.5)}},
	} {
		t.Run(g.GeoJSONType(), func(t *testing.T) {
			blob, err := EncodeGPKG(g, 4326)
			if err != nil {
				t.Fatal(err)
			}
			if string(blob[:2]) != "GP" || blob[2] != 0 {
				t.Fatalf("EncodeGPKG header = % x, want GP 00", blob[:4])
			}
			back, err := DecodeGPKG(blob)
			if err != nil || !orb.Equal(back, g) {
				t.Fatalf("DecodeGPKG(EncodeGPKG(%v)) = %v, %v", g, back, err)
			}
			b, empty, err := GPKGEnvelope(blob)
			if err != nil || empty || !b.Equal(g.Bound()) {
				t.Errorf("GPKGEnvelope = %v, %v, %v; want %v", b, empty, err, g.Bound())
			}
		})
	}
	t.Run("ErrNotBlob", func(t *testing.T) {
		if _, err := DecodeGPKG([]byte{1, 1, 0, 0, 0}); !errors.Is(err, ErrNotGPKGBlob) {
			t.Errorf("DecodeGPKG(raw WKB) error = %v, want ErrNotGPKGBlob", err)
		}
	})
}

func TestAppendGeoJSON(t *testing.T) {
	g := orb.MultiPolygon{{{{121.1234567, 32}, {121.5, 32}, {121.5, 32.5}, {121.1234567, 32}}}}
	got := string(AppendGeoJSON(nil, g))
	want := `{"type":"MultiPolygon","coordinates":[[[[121.1234567,32],[121.5,32],[121.5,32.5],[121.1234567,32]]]]}`
	if got != want {
		t.Errorf("AppendGeoJSON = %s\nwant %s", got, want)
	}
	back, _, err := DecodeGeoJSON([]byte(got))
	if err != nil || !orb.Equal(back, g) {
		t.Errorf("DecodeGeoJSON(AppendGeoJSON(g)) = %v, %v", back, err)
	}
}

func TestWebMercator(t *testing.T) {
	p := orb.Point{121.4987654, 32.1234567}
	back := FromWebMercator(ToWebMercator(p)).(orb.Point)
	if math.Abs(back[0]-p[0]) > 1e-9 || math.Abs(back[1]-p[1]) > 1e-9 {
		t.Errorf("FromWebMercator(ToWebMercator(%v)) = %v", p, back)
	}
	// EPSG:3857 of 121.5E 32.1N, as cs2cs gives it.
	m := ToWebMercator(orb.Point{121.5, 32.1}).(orb.Point)
	if math.Abs(m[0]-13525318.1) > 1 || math.Abs(m[1]-3776444.35) > 1 {
		t.Errorf("ToWebMercator(121.5, 32.1) = %v", m)
	}
}

func TestMeasure(t *testing.T) {
	near := func(got, want, tol float64) bool { return math.Abs(got-want) <= tol }
	// One degree of latitude at the equator: 110574.389 m (Karney's
	// GeographicLib, WGS 84).
	if d := Distance(orb.Point{0, 0}, orb.Point{0, 1}); !near(d, 110574.389, 0.01) {
		t.Errorf("Distance(0,0 → 0,1) = %.3f, want 110574.389", d)
	}
	// Flinders Peak to Buninyong, Vincenty's own test: 54972.271 m.
	fp := orb.Point{144 + 25/60.0 + 29.52440/3600, -(37 + 57/60.0 + 3.72030/3600)}
	bu := orb.Point{143 + 55/60.0 + 35.38390/3600, -(37 + 39/60.0 + 10.15610/3600)}
	if d := Distance(fp, bu); !near(d, 54972.271, 0.01) {
		t.Errorf("Distance(Flinders Peak → Buninyong) = %.3f, want 54972.271", d)
	}
	if d := Length(orb.MultiLineString{{{0, 0}, {0, 0.5}, {0, 1}}}); !near(d, 110574.389, 0.01) {
		t.Errorf("Length = %.3f, want 110574.389", d)
	}
	// A one-degree cell at the equator with edges of constant bearing:
	// 12308463894.0 m² on WGS 84 (GeographicLib: Planimeter -R). With
	// geodesic edges it is 12308778361.5 m², 0.003 % more.
	cell := orb.Polygon{square(0, 0, 1)}
	if a := Area(cell); !near(a, 12308463894.0, 1) {
		t.Errorf("Area(1° cell) = %.1f, want 12308463894.0", a)
	}
	// A 0.01° cell in Haimen: 1046625.8 m² either way (Planimeter).
	if a := Area(orb.Polygon{square(121.5, 32.1, 0.01)}); !near(a, 1046625.8, 0.5) {
		t.Errorf("Area(0.01° cell at Haimen) = %.1f, want 1046625.8", a)
	}
	// A hectare near Haimen: a 100 m square, built from local metres.
	lat := 32.1
	dLat := 100 / Distance(orb.Point{121.5, lat}, orb.Point{121.5, lat + 0.001}) * 0.001
	dLon := 100 / Distance(orb.Point{121.5, lat}, orb.Point{121.501, lat}) * 0.001
	ha := orb.MultiPolygon{{{{121.5, lat}, {121.5 + dLon, lat}, {121.5 + dLon, lat + dLat}, {121.5, lat + dLat}, {121.5, lat}}}}
	if a := Area(ha); !near(a, 10000, 1) {
		t.Errorf("Area(100 m square) = %.3f m², want 10000", a)
	}
	withHole := orb.Polygon{square(0, 0, 1), orb.Ring{{0.25, 0.25}, {0.25, 0.75}, {0.75, 0.75}, {0.75, 0.25}, {0.25, 0.25}}}
	if a, full := Area(withHole), Area(cell); !near(a, full*0.75, full*1e-3) {
		t.Errorf("Area(cell with a quarter hole) = %.0f, want about %.0f", a, full*0.75)
	}
	if Area(orb.LineString{{0, 0}, {1, 1}}) != 0 || Length(orb.Point{1, 1}) != 0 {
		t.Error("Area of a line or Length of a point is not 0")
	}
}

// TestValidateAgreesWithGEOS runs Validate over shapes whose validity GEOS
// decided (testdata/geos_validity.tsv: random rings on a small grid, so
// that rings touch, cross and share vertices in every way).
func TestValidateAgreesWithGEOS(t *testing.T) {
	data, err := os.ReadFile("testdata/geos_validity.tsv")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		w, want, _ := strings.Cut(line, "\t")
		g, err := wkt.Unmarshal(w)
		if err != nil {
			t.Fatalf("%s: %v", w, err)
		}
		n++
		if err := Validate(g); (err == nil) != (want == "true") {
			t.Errorf("Validate(%s) = %v; GEOS says valid=%s", w, err, want)
		}
	}
	if n < 3000 {
		t.Errorf("only %d cases", n)
	}
}

func TestIntersectsBound(t *testing.T) {
	box := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}
	ring := orb.Polygon{square(-5, -5, 10)}
	tests := []struct {
		name string
		g    orb.Geometry
		want bool
	}{
		{"PointInside", orb.Point{0.5, 0.5}, true},
		{"PointOnEdge", orb.Point{1, 0.5}, true},
		{"PointOutside", orb.Point{2, 2}, false},
		{"LineThrough", orb.LineString{{-1, 0.5}, {2, 0.5}}, true},
		{"LinePastCorner", orb.LineString{{1.5, 0}, {2, 1}}, false},
		{"DiagonalMissing", orb.LineString{{0.5, 2}, {2, 0.5}}, false},
		{"PolygonAroundBox", ring, true},
		{"PolygonWithBoxInHole", orb.Polygon{square(-5, -5, 10), square(-1, -1, 3)}, false},
		{"TriangleNearCorner", orb.MultiPolygon{{{{1.5, 0.2}, {3, 0.2}, {3, 2}, {1.5, 0.2}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IntersectsBound(tt.g, box); got != tt.want {
				t.Errorf("IntersectsBound(%v) = %v, want %v", tt.g, got, tt.want)
			}
		})
	}
}
