package storetest

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"strconv"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// The synthetic layers of the suite lie on a grid near Haimen: feature i
// (id i+1) of a layer is drawn in the cell at column i % gridColumns and
// row i / gridColumns, whose south-west corner is at (gridWest +
// column·gridCell, gridSouth + row·gridCell). Polygons stay inside their
// cell; lines wander over up to three cells, so they cross each other and
// the polygons; points fall anywhere in their cell.
const (
	gridWest    = 121.30
	gridSouth   = 31.95
	gridCell    = 0.001 // degrees, about 95 m east-west and 110 m north-south
	gridColumns = 60
)

// feature is a synthetic feature as the suite knows it: what it wrote, to
// compare what a store answers with.
type feature struct {
	ID    int64
	Props map[string]any // string, int64, float64, bool; dates as strings
	Geom  orb.Geometry
}

// layerData is a synthetic layer: its declaration's parts and features.
type layerData struct {
	ID           string
	GeometryType string
	Features     []feature
}

// byID returns the layer's features by id.
func (l *layerData) byID() map[int64]*feature {
	m := make(map[int64]*feature, len(l.Features))
	for i := range l.Features {
		m[l.Features[i].ID] = &l.Features[i]
	}
	return m
}

// statuses are the values of the status field of the synthetic layers.
var statuses = []string{"planned", "signed", "under_construction", "in_operation"}

// schema is the schema of every synthetic layer: a field of each type a
// property filter compares.
const schema = `[
    {"name": "name_zh", "type": "string", "required": true},
    {"name": "status", "type": "string", "required": true, "values": ["planned", "signed", "under_construction", "in_operation"]},
    {"name": "berths", "type": "integer"},
    {"name": "area_mu", "type": "number"},
    {"name": "public", "type": "boolean"},
    {"name": "opened", "type": "date"}
  ]`

// properties returns random properties for feature id: every field but
// the required ones is sometimes absent, so that a filter on false or 0 is
// not a filter on "absent".
func properties(rng *rand.Rand, id int64) map[string]any {
	p := map[string]any{
		"name_zh": strconv.FormatInt(id, 10) + "号",
		"status":  statuses[rng.Intn(len(statuses))],
	}
	if rng.Intn(4) > 0 {
		p["berths"] = int64(rng.Intn(4))
	}
	if rng.Intn(4) > 0 {
		// A few distinct values, so that equality selects several.
		p["area_mu"] = float64(rng.Intn(6)) * 12.25
	}
	if rng.Intn(3) > 0 {
		p["public"] = rng.Intn(2) == 0
	}
	if rng.Intn(3) > 0 {
		p["opened"] = fmt.Sprintf("2021-0%d-1%d", 1+rng.Intn(3), rng.Intn(3))
	}
	return p
}

// round keeps 7 decimals (about 1 cm), as a surveyed coordinate has.
func round(v float64) float64 { return math.Round(v*1e7) / 1e7 }

// quad returns a closed ring through four points jittered inside the
// rectangle (x0, y0)–(x1, y1), counter-clockwise.
func quad(rng *rand.Rand, x0, y0, x1, y1 float64) orb.Ring {
	jx, jy := (x1-x0)/6, (y1-y0)/6
	in := func(j float64) float64 { return rng.Float64() * j }
	r := orb.Ring{
		{x0 + in(jx), y0 + in(jy)},
		{x1 - in(jx), y0 + in(jy)},
		{x1 - in(jx), y1 - in(jy)},
		{x0 + in(jx), y1 - in(jy)},
	}
	return closeRing(r)
}

func closeRing(r orb.Ring) orb.Ring {
	for i := range r {
		r[i] = orb.Point{round(r[i][0]), round(r[i][1])}
	}
	return append(r, r[0])
}

// reversed returns r clockwise, as a hole is drawn.
func reversed(r orb.Ring) orb.Ring {
	out := make(orb.Ring, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

// cell returns the south-west corner of the cell of feature i.
func cell(i int) (float64, float64) {
	return gridWest + float64(i%gridColumns)*gridCell, gridSouth + float64(i/gridColumns)*gridCell
}

// polygons returns n features for a MultiPolygon layer, in five kinds:
// a plain quadrilateral, one with a hole, an L (concave), two parts, and
// two parts of which one has a hole. Each lies inside its cell, less a
// margin.
func polygons(rng *rand.Rand, n int) []feature {
	fs := make([]feature, n)
	const m = gridCell / 20
	for i := range fs {
		x, y := cell(i)
		x0, y0, x1, y1 := x+m, y+m, x+gridCell-m, y+gridCell-m
		w, h := x1-x0, y1-y0
		var g orb.Geometry
		switch i % 5 {
		case 0:
			g = orb.Polygon{quad(rng, x0, y0, x1, y1)}
		case 1:
			g = orb.Polygon{quad(rng, x0, y0, x1, y1), reversed(quad(rng, x0+w/4, y0+h/4, x1-w/4, y1-h/4))}
		case 2:
			a, b := 0.3+0.4*rng.Float64(), 0.3+0.4*rng.Float64()
			g = orb.Polygon{closeRing(orb.Ring{{x0, y0}, {x1, y0}, {x1, y0 + b*h}, {x0 + a*w, y0 + b*h}, {x0 + a*w, y1}, {x0, y1}})}
		case 3:
			g = orb.MultiPolygon{
				{quad(rng, x0, y0, x0+0.45*w, y1)},
				{quad(rng, x0+0.55*w, y0, x1, y1)},
			}
		case 4:
			g = orb.MultiPolygon{
				{quad(rng, x0, y0, x1, y0+0.3*h)},
				{quad(rng, x0, y0+0.4*h, x1, y1), reversed(quad(rng, x0+w/4, y0+0.5*h, x1-w/4, y1-h/8))},
			}
		}
		fs[i] = feature{ID: int64(i + 1), Props: properties(rng, int64(i+1)), Geom: g}
	}
	return fs
}

// lines returns n features for a MultiLineString layer: zigzags from the
// feature's cell over up to three cells east and north, one in three of
// them in two parts.
func lines(rng *rand.Rand, n int) []feature {
	fs := make([]feature, n)
	zigzag := func(x, y float64) orb.LineString {
		ls := orb.LineString{{round(x + rng.Float64()*gridCell), round(y + rng.Float64()*gridCell)}}
		for k := 1 + rng.Intn(4); k > 0; k-- {
			last := ls[len(ls)-1]
			ls = append(ls, orb.Point{round(last[0] + (rng.Float64()-0.3)*gridCell), round(last[1] + (rng.Float64()-0.3)*gridCell)})
		}
		return ls
	}
	for i := range fs {
		x, y := cell(i)
		var g orb.Geometry = zigzag(x, y)
		if i%3 == 2 {
			g = orb.MultiLineString{g.(orb.LineString), zigzag(x, y)}
		}
		fs[i] = feature{ID: int64(i + 1), Props: properties(rng, int64(i+1)), Geom: g}
	}
	return fs
}

// points returns n features for a Point layer, each anywhere in its cell.
func points(rng *rand.Rand, n int) []feature {
	fs := make([]feature, n)
	for i := range fs {
		x, y := cell(i)
		g := orb.Point{round(x + rng.Float64()*gridCell), round(y + rng.Float64()*gridCell)}
		fs[i] = feature{ID: int64(i + 1), Props: properties(rng, int64(i+1)), Geom: g}
	}
	return fs
}

// layerFile returns the layer file of l: with its declaration when
// declare is set, else only its features (which an existing layer takes).
func layerFile(l *layerData, declare bool, fs []feature) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"type": "FeatureCollection", "name": %q, "id": %q`, l.ID, l.ID)
	if declare {
		fmt.Fprintf(&b, `, "title": {"zh": "%s", "en": "%s"}, "geometryType": %q, "schema": %s`, l.ID, l.ID, l.GeometryType, schema)
	}
	b.WriteString(`, "features": [`)
	for i, f := range fs {
		if i > 0 {
			b.WriteString(",\n")
		}
		props, err := layers.Marshal(f.Props)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(&b, `{"type": "Feature", "id": %d, "properties": %s, "geometry": `, f.ID, props)
		b.Write(geoJSON(f.Geom))
		b.WriteString("}")
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// geoJSON writes g's GeoJSON geometry with every coordinate in its
// shortest exact form, so that the store reads back the same float64s.
func geoJSON(g orb.Geometry) []byte {
	var b []byte
	pt := func(p orb.Point) {
		b = append(b, '[')
		b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, p[1], 'f', -1, 64)
		b = append(b, ']')
	}
	list := func(ps []orb.Point) {
		b = append(b, '[')
		for i, p := range ps {
			if i > 0 {
				b = append(b, ',')
			}
			pt(p)
		}
		b = append(b, ']')
	}
	poly := func(p orb.Polygon) {
		b = append(b, '[')
		for i, r := range p {
			if i > 0 {
				b = append(b, ',')
			}
			list(r)
		}
		b = append(b, ']')
	}
	switch g := g.(type) {
	case orb.Point:
		b = append(b, `{"type":"Point","coordinates":`...)
		pt(g)
	case orb.LineString:
		b = append(b, `{"type":"LineString","coordinates":`...)
		list(g)
	case orb.MultiLineString:
		b = append(b, `{"type":"MultiLineString","coordinates":[`...)
		for i, ls := range g {
			if i > 0 {
				b = append(b, ',')
			}
			list(ls)
		}
		b = append(b, ']')
	case orb.Polygon:
		b = append(b, `{"type":"Polygon","coordinates":`...)
		poly(g)
	case orb.MultiPolygon:
		b = append(b, `{"type":"MultiPolygon","coordinates":[`...)
		for i, p := range g {
			if i > 0 {
				b = append(b, ',')
			}
			poly(p)
		}
		b = append(b, ']')
	default:
		panic(fmt.Sprintf("storetest: no GeoJSON for %T", g))
	}
	return append(b, '}')
}
