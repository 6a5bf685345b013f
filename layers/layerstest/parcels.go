package layerstest

import (
	"bytes"
	"math"
	"math/rand"
	"strconv"

	"github.com/paulmach/orb"
)

// The grid of Parcels: parcel i (from 0, id i+1) lies in the cell at
// column i % ParcelsColumns and row i / ParcelsColumns, whose south-west
// corner is at (ParcelsWest + column·ParcelsCell, ParcelsSouth +
// row·ParcelsCell). Every parcel keeps at least ParcelsMargin from its
// cell's edges, so a box whose edges follow cell edges holds whole parcels
// and touches no other: ParcelsBBox computes one. 200,000 parcels fill 334
// rows, from 121.2° to 121.74° E and from 31.9° to 32.2006° N, a
// 50 km × 33 km stretch of the Yangtze's north bank around Haimen.
const (
	ParcelsWest    = 121.2
	ParcelsSouth   = 31.9
	ParcelsCell    = 0.0009 // degrees, about 85 m east-west and 100 m north-south
	ParcelsColumns = 600
	ParcelsMargin  = 0.00005 // degrees: neighbours are at least about 10 m apart
)

// ParcelsStatuses are the allowed values of the status field of Parcels.
var ParcelsStatuses = []string{"planned", "signed", "under_construction", "in_operation"}

// Parcels returns a layer file (declaration and features, like
// layers/testdata/parcels.geojson) of the MultiPolygon layer "parcels" with
// n synthetic parcels, ids 1 to n, laid out on the grid described above:
// each a rectangle with jittered corners and zero to two extra vertices
// (4 to 6 distinct positions), counter-clockwise, with the properties
// name_zh, status, area_mu (its approximate area in mu) and, for three in
// four, berths. The same n always gives the same bytes.
func Parcels(n int) []byte {
	rng := rand.New(rand.NewSource(20240601))
	var b bytes.Buffer
	b.Grow(64<<10 + n*420)
	b.WriteString(`{
  "type": "FeatureCollection",
  "name": "parcels",
  "id": "parcels",
  "title": {"zh": "合成地块", "en": "Synthetic parcels"},
  "description": {"zh": "基准测试用的合成地块", "en": "Synthetic parcels on a grid, for benchmarks"},
  "geometryType": "MultiPolygon",
  "order": 50,
  "schema": [
    {"name": "name_zh", "type": "string", "required": true, "description": {"zh": "中文名称", "en": "Name in Chinese"}},
    {"name": "status", "type": "string", "required": true, "values": ["planned", "signed", "under_construction", "in_operation"], "description": {"zh": "状态", "en": "Status"}},
    {"name": "area_mu", "type": "number", "description": {"zh": "面积（亩）", "en": "Area (mu)"}},
    {"name": "berths", "type": "integer", "description": {"zh": "泊位数", "en": "Berths"}}
  ],
  "style": {"color": "#7f5f3f", "fillColor": "#c8a165", "weight": 1, "fillOpacity": 0.5},
  "features": [
`)
	var line []byte
	for i := 0; i < n; i++ {
		ring := parcelRing(rng, i)
		line = append(line[:0], `    {"type": "Feature", "id": `...)
		line = strconv.AppendInt(line, int64(i+1), 10)
		line = append(line, `, "properties": {"name_zh": "`...)
		line = strconv.AppendInt(line, int64(i+1), 10)
		line = append(line, `号地块", "status": "`...)
		line = append(line, ParcelsStatuses[rng.Intn(len(ParcelsStatuses))]...)
		line = append(line, `", "area_mu": `...)
		line = strconv.AppendFloat(line, math.Round(ringAreaMu(ring)*100)/100, 'f', -1, 64)
		if rng.Intn(4) > 0 {
			line = append(line, `, "berths": `...)
			line = strconv.AppendInt(line, int64(rng.Intn(5)), 10)
		}
		line = append(line, "},\n     \"geometry\": {\"type\": \"MultiPolygon\", \"coordinates\": [[["...)
		for j, p := range ring {
			if j > 0 {
				line = append(line, ", "...)
			}
			line = append(line, '[')
			line = strconv.AppendFloat(line, p[0], 'f', 7, 64)
			line = append(line, ", "...)
			line = strconv.AppendFloat(line, p[1], 'f', 7, 64)
			line = append(line, ']')
		}
		line = append(line, "]]]}}"...)
		if i < n-1 {
			line = append(line, ',')
		}
		line = append(line, '\n')
		b.Write(line)
	}
	b.WriteString("  ]\n}\n")
	return b.Bytes()
}

// ParcelsFarOne is Parcels(n) and one parcel more, id 9999, far away
// from the grid: the layer's extent is then mostly empty, and a box over
// the grid holds many more parcels than its share of the extent would
// say, as a store guessing the size of an answer from it would.
func ParcelsFarOne(n int) []byte {
	data := bytes.TrimRight(Parcels(n), "\n]}")
	return append(data, `,
    {"type": "Feature", "id": 9999, "properties": {"name_zh": "远处地块", "status": "planned"},
     "geometry": {"type": "MultiPolygon", "coordinates": [[[[123.5, 33.5], [123.501, 33.5], [123.501, 33.501], [123.5, 33.501], [123.5, 33.5]]]]}}
  ]
}
`...)
}

// ParcelsBBox returns, as the bbox query parameter wants it
// ("minx,miny,maxx,maxy"), the box along cell edges that holds the
// cols × rows parcels whose south-west one is at grid column col and row
// row: with enough parcels generated, exactly cols·rows of them.
func ParcelsBBox(col, row, cols, rows int) string {
	edges := [4]float64{
		ParcelsWest + float64(col)*ParcelsCell,
		ParcelsSouth + float64(row)*ParcelsCell,
		ParcelsWest + float64(col+cols)*ParcelsCell,
		ParcelsSouth + float64(row+rows)*ParcelsCell,
	}
	var b []byte
	for i, e := range edges {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, math.Round(e*1e7)/1e7, 'f', -1, 64)
	}
	return string(b)
}

// parcelRing returns the closed exterior ring of parcel i: the corners of
// the cell less twice the margin, each moved inwards by up to a fifth of
// the cell, and on the south and east edges, at random, a vertex pushed
// outwards by up to one margin. The vertices go round the cell's centre in
// order, so the ring is simple and counter-clockwise.
func parcelRing(rng *rand.Rand, i int) [][2]float64 {
	x0 := ParcelsWest + float64(i%ParcelsColumns)*ParcelsCell
	y0 := ParcelsSouth + float64(i/ParcelsColumns)*ParcelsCell
	const (
		lo     = 2 * ParcelsMargin
		hi     = ParcelsCell - 2*ParcelsMargin
		jitter = ParcelsCell / 5
		bulge  = ParcelsMargin
	)
	in := func() float64 { return rng.Float64() * jitter }
	sw := [2]float64{lo + in(), lo + in()}
	se := [2]float64{hi - in(), lo + in()}
	ne := [2]float64{hi - in(), hi - in()}
	nw := [2]float64{lo + in(), hi - in()}
	// mid returns a point of edge a→b, a fraction 0.3 to 0.7 along it,
	// pushed outwards by an eighth of a margin to a whole one along
	// (dx, dy).
	mid := func(a, b [2]float64, dx, dy float64) [2]float64 {
		t := 0.3 + 0.4*rng.Float64()
		d := bulge * (0.125 + 0.875*rng.Float64())
		return [2]float64{a[0] + t*(b[0]-a[0]) + dx*d, a[1] + t*(b[1]-a[1]) + dy*d}
	}
	ring := [][2]float64{sw}
	extra := rng.Intn(3) // 0, 1 or 2 extra vertices
	if extra >= 1 {
		ring = append(ring, mid(sw, se, 0, -1))
	}
	ring = append(ring, se)
	if extra == 2 {
		ring = append(ring, mid(se, ne, 1, 0))
	}
	ring = append(ring, ne, nw, sw)
	for j := range ring {
		ring[j][0] = math.Round((x0+ring[j][0])*1e7) / 1e7
		ring[j][1] = math.Round((y0+ring[j][1])*1e7) / 1e7
	}
	return ring
}

// ringAreaMu is the area of a closed lon/lat ring in mu (666.67 m²), by
// the shoelace formula on a local equirectangular projection: close enough
// for a property that is only there to be served.
func ringAreaMu(ring [][2]float64) float64 {
	const metresPerDegree = 111_320.0
	kx := metresPerDegree * math.Cos(ring[0][1]*math.Pi/180)
	var a float64
	for j := 0; j+1 < len(ring); j++ {
		a += ring[j][0]*ring[j+1][1] - ring[j+1][0]*ring[j][1]
	}
	return math.Abs(a) / 2 * kx * metresPerDegree / (2000.0 / 3)
}

// RandomParcelsBox is a box over the first n parcels' grid as the
// small-answer tests of the stores ask: from a few parcels to more than
// the whole layer, its edges anywhere, and one in three a speck, which
// often falls in a parcel's bounding box but outside the parcel, or only
// in an index's box, rounded outward: a candidate the bbox rule refuses.
func RandomParcelsBox(rng *rand.Rand, n int) orb.Bound {
	rows := (n + ParcelsColumns - 1) / ParcelsColumns
	w := rng.Float64() * float64(ParcelsColumns) * ParcelsCell * []float64{0.02, 0.2, 1.2}[rng.Intn(3)]
	h := rng.Float64() * float64(rows) * ParcelsCell * 1.2
	x := ParcelsWest + rng.Float64()*float64(ParcelsColumns)*ParcelsCell - w/2
	y := ParcelsSouth + rng.Float64()*float64(rows)*ParcelsCell - h/2
	if rng.Intn(3) == 0 {
		w, h = 3e-5, 3e-5
	}
	return orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w, y + h}}
}
