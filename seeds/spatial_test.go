package seeds_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"planmap/geo"
	"planmap/layers"
	"planmap/seeds"
)

// The seed data is checked for spatial sense by computation, in local
// metres: x east and y north of (121.5, 32.1), scaled by the geodesic
// length of a thousandth of a degree there.
var (
	origin = orb.Point{121.5, 32.1}
	mx     = geo.Distance(origin, orb.Point{121.501, 32.1}) * 1000
	my     = geo.Distance(origin, orb.Point{121.5, 32.101}) * 1000
)

func metres(p orb.Point) orb.Point {
	return orb.Point{(p[0] - origin[0]) * mx, (p[1] - origin[1]) * my}
}

// feature is a seed feature with its geometry in local metres.
type feature struct {
	layer string
	layers.Feature
	m orb.Geometry
}

func (f feature) name() string { return f.layer + "/" + f.Properties["name_zh"].(string) }

// readFiles reads and checks the embedded layer files.
func readFiles() ([]*layers.File, error) {
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		return nil, err
	}
	return files, layers.CheckFiles(context.Background(), nil, files, false)
}

func loadSeeds(t *testing.T) map[string][]feature {
	t.Helper()
	files, err := readFiles()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]feature{}
	for _, f := range files {
		for _, ft := range f.Features {
			out[f.LayerID] = append(out[f.LayerID], feature{f.LayerID, ft, project(ft.Geometry)})
		}
	}
	return out
}

func project(g orb.Geometry) orb.Geometry { return geo.Transform(g, metres) }

// segments lists the edges of a line or polygon geometry.
func segments(g orb.Geometry) [][2]orb.Point {
	var out [][2]orb.Point
	add := func(ps []orb.Point) {
		for i := 1; i < len(ps); i++ {
			out = append(out, [2]orb.Point{ps[i-1], ps[i]})
		}
	}
	switch g := g.(type) {
	case orb.MultiLineString:
		for _, l := range g {
			add(l)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				add(r)
			}
		}
	}
	return out
}

func vertices(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.Point:
		return []orb.Point{g}
	case orb.MultiLineString:
		for _, l := range g {
			out = append(out, l...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				out = append(out, r...)
			}
		}
	}
	return out
}

func contains(g orb.Geometry, p orb.Point) bool {
	mp, ok := g.(orb.MultiPolygon)
	return ok && planar.MultiPolygonContains(mp, p)
}

func cross(a, b, c, d orb.Point) bool {
	o := func(p, q, r orb.Point) float64 { return (q[0]-p[0])*(r[1]-p[1]) - (q[1]-p[1])*(r[0]-p[0]) }
	return o(a, b, c)*o(a, b, d) < 0 && o(c, d, a)*o(c, d, b) < 0
}

// distance is the least distance between two geometries in metres, 0 when
// they touch, cross or one lies in the other.
func distance(a, b orb.Geometry) float64 {
	for _, p := range vertices(a) {
		if contains(b, p) {
			return 0
		}
	}
	for _, p := range vertices(b) {
		if contains(a, p) {
			return 0
		}
	}
	sa, sb := segments(a), segments(b)
	if len(sa) == 0 {
		sa = [][2]orb.Point{{a.(orb.Point), a.(orb.Point)}}
	}
	if len(sb) == 0 {
		sb = [][2]orb.Point{{b.(orb.Point), b.(orb.Point)}}
	}
	d := math.Inf(1)
	for _, s := range sa {
		for _, u := range sb {
			if cross(s[0], s[1], u[0], u[1]) {
				return 0
			}
			d = min(d,
				planar.DistanceFromSegment(u[0], u[1], s[0]), planar.DistanceFromSegment(u[0], u[1], s[1]),
				planar.DistanceFromSegment(s[0], s[1], u[0]), planar.DistanceFromSegment(s[0], s[1], u[1]))
		}
	}
	return d
}

func find(t *testing.T, fs []feature, nameZh string) feature {
	t.Helper()
	for _, f := range fs {
		if f.Properties["name_zh"] == nameZh {
			return f
		}
	}
	t.Fatalf("no feature named %s", nameZh)
	return feature{}
}

// Every place the article puts on the map, by the Chinese name it uses.
var articlePlaces = []struct{ layer, nameZh string }{
	{"boundary", "海门港新区"},
	{"industry", "中天绿色精品钢"},
	{"industry", "中天岛"},
	{"industry", "艾郎风电（一期）"},
	{"industry", "艾郎风电（二期）"},
	{"industry", "回力高端再生胶"},
	{"industry", "海螺新材料"},
	{"industry", "国信能源中心"},
	{"industry", "绿岛产业园"},
	{"industry", "钢材深加工"},
	{"industry", "重特大装备制造"},
	{"industry", "绿色循环经济产业园"},
	{"terminals", "中天海港码头"},
	{"terminals", "中天内河码头"},
	{"terminals", "海螺码头"},
	{"terminals", "政府公用码头"},
	{"terminals", "2万吨级通用码头"},
	{"stations", "东灶港站"},
	{"railways", "洋吕铁路"},
	{"roads", "港西大道"},
	{"roads", "海世路"},
	{"roads", "海华路"},
	{"roads", "津海路"},
	{"roads", "高速公路出口"},
	{"parks", "海港生态公园"},
	{"resettlement", "海港生态公园西侧地块"},
	{"resettlement", "港西大道"},
	{"resettlement", "海世路"},
	{"resettlement", "海华路"},
	{"facilities", "江苏工学院"},
	{"facilities", "海鲜一条街"},
	{"facilities", "文体中心"},
	{"facilities", "星级酒店"},
	{"facilities", "商业综合体"},
	{"facilities", "高端住宅"},
	{"facilities", "海港实验学校"},
	{"facilities", "海门第三人民医院"},
	{"rivers", "东灶河"},
	{"monitoring", "近岸海域国考站位"},
}

func TestArticlePlacesAreMapped(t *testing.T) {
	all := loadSeeds(t)
	for _, p := range articlePlaces {
		found := false
		for _, f := range all[p.layer] {
			found = found || strings.Contains(f.Properties["name_zh"].(string), p.nameZh)
		}
		if !found {
			t.Errorf("no feature in layer %s is named %s", p.layer, p.nameZh)
		}
	}
}

func TestResettlementSense(t *testing.T) {
	all := loadSeeds(t)
	roads := map[string]feature{}
	for _, name := range []string{"港西大道", "海世路", "海华路"} {
		roads[name] = find(t, all["roads"], name)
	}
	park := find(t, all["parks"], "海港生态公园")
	sea := find(t, all["water"], "黄海近岸海域")
	sides := map[string]map[int]bool{}
	for _, b := range all["resettlement"] {
		t.Run(b.name(), func(t *testing.T) {
			if ha := geo.Area(b.Geometry) / 1e4; ha < 1 || ha > 30 {
				t.Errorf("area %.1f ha, want 1 to 30", ha)
			}
			name, _ := b.Properties["flanks_road"].(string)
			road, ok := roads[name]
			if !ok {
				t.Fatalf("flanks_road %q is not one of Gangxi Avenue, Haishi Road, Haihua Road", name)
			}
			for _, v := range vertices(b.m) {
				if d := planar.DistanceFrom(road.m, v); d > 250 {
					t.Errorf("vertex %v is %.0f m from %s, want within 250 m", v, d, name)
					break
				}
			}
			// The side of the road: the sign of the cross product of the
			// nearest road segment and the block's centroid.
			c, _ := planar.CentroidArea(b.m)
			best, side := math.Inf(1), 0
			for _, s := range segments(road.m) {
				if d := planar.DistanceFromSegment(s[0], s[1], c); d < best {
					best = d
					o := (s[1][0]-s[0][0])*(c[1]-s[0][1]) - (s[1][1]-s[0][1])*(c[0]-s[0][0])
					side = int(math.Copysign(1, o))
				}
			}
			if sides[name] == nil {
				sides[name] = map[int]bool{}
			}
			sides[name][side] = true

			for _, r := range all["roads"] {
				if d := distance(b.m, r.m); d < 15 {
					t.Errorf("is %.0f m from the centreline of %s: it would lie on the carriageway", d, r.name())
				}
			}
			for _, other := range append([]feature{park, sea}, all["terminals"]...) {
				if distance(b.m, other.m) == 0 {
					t.Errorf("overlaps or touches %s", other.name())
				}
			}
		})
	}
	for name := range roads {
		if len(sides[name]) != 2 {
			t.Errorf("%s has resettlement blocks on one side only", name)
		}
	}
	west := find(t, all["resettlement"], "海港生态公园西侧地块安置房")
	if w, p := west.Geometry.Bound(), park.Geometry.Bound(); w.Max[0] >= p.Min[0] {
		t.Errorf("the plot west of the eco-park reaches %.5f°E, east of the park's west edge %.5f°E", w.Max[0], p.Min[0])
	}
}

func TestTerminalsTouchWater(t *testing.T) {
	all := loadSeeds(t)
	water := append(append([]feature{}, all["water"]...), all["rivers"]...)
	for _, term := range all["terminals"] {
		near := math.Inf(1)
		for _, w := range water {
			near = min(near, distance(term.m, w.m))
		}
		if near > 1 {
			t.Errorf("%s is %.0f m from the nearest water", term.name(), near)
		}
	}
}

func TestEverythingInsideTheDistrict(t *testing.T) {
	all := loadSeeds(t)
	boundary := all["boundary"][0]
	for layer, fs := range all {
		if layer == "water" || layer == "boundary" || layer == "context" {
			continue // the sea, its channels and the regional context reach beyond the district
		}
		for _, f := range fs {
			for _, v := range vertices(f.m) {
				if !contains(boundary.m, v) {
					t.Errorf("%s has a vertex outside the district boundary", f.name())
					break
				}
			}
		}
	}
}

// The regional context frames the district and never covers it.
func TestContextOutsideTheDistrict(t *testing.T) {
	all := loadSeeds(t)
	boundary := all["boundary"][0]
	if len(all["context"]) < 5 {
		t.Fatalf("%d context features, want the Yangtze mouth, Tongzhou Bay, the airport, Haimen and Nantong", len(all["context"]))
	}
	for _, f := range all["context"] {
		if overlap(f.m, boundary.m) {
			t.Errorf("%s overlaps the district", f.name())
		}
	}
}

func TestAreasAreBelievable(t *testing.T) {
	all := loadSeeds(t)
	steel := find(t, all["industry"], "中天绿色精品钢（中天岛）")
	if km2 := geo.Area(steel.Geometry) / 1e6; km2 < 20 || km2 > 35 {
		t.Errorf("the steel site is %.1f km², want roughly the reported 30", km2)
	}
	for _, name := range []string{"艾郎风电（一期）", "艾郎风电（二期）"} {
		f := find(t, all["industry"], name)
		mu := geo.Area(f.Geometry) / geo.SquareMetresPerMu
		want, _ := f.Properties["area_mu"].(float64)
		if math.Abs(mu-want) > want*0.05 {
			t.Errorf("%s is drawn %.0f mu, reported %.0f", name, mu, want)
		}
	}
}

// overlap reports whether the interiors of two polygon geometries meet:
// edges that cross, or a vertex of one inside the other. Shared edges and
// touching corners are not overlaps; "shared" allows half a metre, since a
// vertex rounded to 7 decimals lies up to a few centimetres off the edge it
// was put on.
func overlap(a, b orb.Geometry) bool {
	const tol = 0.5
	inside := func(g orb.Geometry, p orb.Point) bool {
		return contains(g, p) && planar.DistanceFrom(asLines(g), p) > tol
	}
	clear := func(s, u [2]orb.Point) bool {
		return min(planar.DistanceFromSegment(u[0], u[1], s[0]), planar.DistanceFromSegment(u[0], u[1], s[1]),
			planar.DistanceFromSegment(s[0], s[1], u[0]), planar.DistanceFromSegment(s[0], s[1], u[1])) > tol
	}
	for _, p := range vertices(a) {
		if inside(b, p) {
			return true
		}
	}
	for _, p := range vertices(b) {
		if inside(a, p) {
			return true
		}
	}
	for _, s := range segments(a) {
		for _, u := range segments(b) {
			if cross(s[0], s[1], u[0], u[1]) && clear(s, u) {
				return true
			}
		}
	}
	return false
}

func asLines(g orb.Geometry) orb.MultiLineString {
	var out orb.MultiLineString
	for _, p := range g.(orb.MultiPolygon) {
		for _, r := range p {
			out = append(out, orb.LineString(r))
		}
	}
	return out
}

func TestLandParcelsDoNotOverlap(t *testing.T) {
	all := loadSeeds(t)
	var land []feature
	for _, layer := range []string{"industry", "resettlement", "facilities", "parks", "stations", "terminals"} {
		land = append(land, all[layer]...)
	}
	for i, a := range land {
		for _, b := range land[i+1:] {
			if overlap(a.m, b.m) {
				t.Errorf("%s overlaps %s", a.name(), b.name())
			}
		}
		for _, r := range append(append([]feature{}, all["roads"]...), all["railways"]...) {
			if a.layer != "terminals" && a.layer != "stations" && distance(a.m, r.m) == 0 {
				t.Errorf("%s lies across %s", a.name(), r.name())
			}
		}
	}
}
