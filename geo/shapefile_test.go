package geo

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// The shapefiles are made by ogr2ogr (layers/testdata/shp/make_shapefiles.sh).
const shpDir = "../layers/testdata/shp/"

func readShp(t testing.TB, name string) (shp, dbf []byte) {
	t.Helper()
	shp, err := os.ReadFile(shpDir + name + ".shp")
	if err != nil {
		t.Fatal(err)
	}
	dbf, err = os.ReadFile(shpDir + name + ".dbf")
	if err != nil {
		t.Fatal(err)
	}
	return shp, dbf
}

func utf8Text(b []byte) (string, error) { return string(b), nil }

func TestDecodeShapefile(t *testing.T) {
	t.Run("Polygons", func(t *testing.T) {
		shp, dbf := readShp(t, "parcels")
		typ, geoms, err := DecodeShp(shp)
		if err != nil {
			t.Fatal(err)
		}
		if typ != ShapePolygon || len(geoms) != 3 {
			t.Fatalf("DecodeShp = type %d, %d records, want polygons, 3", typ, len(geoms))
		}
		// Feature 1: a square; 7: two squares; 3: a square with a hole.
		if p, ok := geoms[0].(orb.Polygon); !ok || len(p) != 1 {
			t.Errorf("record 1 = %#v, want a Polygon of 1 ring", geoms[0])
		}
		if mp, ok := geoms[1].(orb.MultiPolygon); !ok || len(mp) != 2 || len(mp[0]) != 1 || len(mp[1]) != 1 {
			t.Errorf("record 2 = %#v, want a MultiPolygon of two shells", geoms[1])
		}
		if p, ok := geoms[2].(orb.Polygon); !ok || len(p) != 2 {
			t.Errorf("record 3 = %#v, want a Polygon with a hole", geoms[2])
		}
		d, err := DecodeDBF(dbf)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.DecodeNames(utf8Text); err != nil {
			t.Fatal(err)
		}
		if d.Len() != 3 {
			t.Fatalf("DBF has %d records, want 3", d.Len())
		}
		var names []string
		for _, f := range d.Fields {
			names = append(names, f.Name+":"+string(f.Type))
		}
		if got, want := strings.Join(names, " "), "name_zh:C name_en:C status:C berths:N area_mu:N public:N opened:D surveyed:D"; got != want {
			t.Errorf("fields = %s, want %s", got, want)
		}
		_, vals, err := d.Record(0, utf8Text)
		if err != nil {
			t.Fatal(err)
		}
		want := []any{"一号地块 <b>&", `Parcel "one"`, "planned", int64(8), 575.5, int64(1), "2021-09-26", "2020-11-02"}
		for i, w := range want {
			if vals[i] != w {
				t.Errorf("record 1 field %s = %#v, want %#v", d.Fields[i].Name, vals[i], w)
			}
		}
		_, vals, _ = d.Record(1, utf8Text)
		if vals[1] != nil || vals[3] != nil {
			t.Errorf("record 2 blank fields = %#v, %#v, want nil", vals[1], vals[3])
		}
	})
	t.Run("Lines", func(t *testing.T) {
		shp, _ := readShp(t, "roads_utf8")
		typ, geoms, err := DecodeShp(shp)
		if err != nil || typ != ShapePolyLine || len(geoms) != 6 {
			t.Fatalf("DecodeShp = %d, %d records, %v; want polylines, 6", typ, len(geoms), err)
		}
		if _, ok := geoms[0].(orb.LineString); !ok {
			t.Errorf("record 1 = %T, want a LineString", geoms[0])
		}
	})
	t.Run("NestedRings", func(t *testing.T) {
		// An island in a lake in an island, all rings counter-clockwise, as
		// a careless writer may leave them: nesting decides.
		sq := func(x, s float64) []orb.Point {
			return []orb.Point{{x, x}, {x + s, x}, {x + s, x + s}, {x, x + s}, {x, x}}
		}
		g := assemblePolygons([][]orb.Point{sq(0, 10), sq(2, 6), sq(4, 2)})
		mp, ok := g.(orb.MultiPolygon)
		if !ok || len(mp) != 2 || len(mp[0])+len(mp[1]) != 3 {
			t.Errorf("assemblePolygons = %v, want the outer square with its lake, and the island", g)
		}
	})
	t.Run("ErrBroken", func(t *testing.T) {
		shp, _ := readShp(t, "parcels")
		for name, b := range map[string][]byte{
			"short":     shp[:50],
			"cut":       shp[:len(shp)-7],
			"filecode":  append([]byte{0, 0, 0, 1}, shp[4:]...),
			"multipart": withUint32(shp, 100+8+4+32, 1<<30), // first record: a billion parts
		} {
			if _, _, err := DecodeShp(b); err == nil || !strings.Contains(err.Error(), "not a valid shapefile") {
				t.Errorf("%s: DecodeShp = %v, want an invalid-shapefile error", name, err)
			}
		}
	})
}

func withUint32(b []byte, off int, v uint32) []byte {
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(c[off:], v)
	return c
}

// FuzzShapefile feeds arbitrary bytes to the shapefile readers: they must
// never panic, and what they accept must be a sane geometry.
func FuzzShapefile(f *testing.F) {
	names, _ := filepath.Glob(shpDir + "*.shp")
	for _, n := range names {
		shp, dbf := readShp(f, strings.TrimSuffix(filepath.Base(n), ".shp"))
		f.Add(shp, dbf)
	}
	f.Fuzz(func(t *testing.T, shp, dbf []byte) {
		typ, geoms, err := DecodeShp(shp)
		if err == nil {
			for i, g := range geoms {
				if g == nil {
					continue
				}
				if g.GeoJSONType() != typ.GeometryType() && "Multi"+g.GeoJSONType() != typ.GeometryType() {
					t.Fatalf("record %d is a %s in a file of %s", i+1, g.GeoJSONType(), typ.GeometryType())
				}
				saneGeometry(t, g)
			}
		}
		d, err := DecodeDBF(dbf)
		if err != nil {
			return
		}
		_ = d.DecodeNames(utf8Text)
		d.EachText(func([]byte) bool { return true })
		for i := 0; i < d.Len(); i++ {
			_, vals, err := d.Record(i, utf8Text)
			if err == nil && len(vals) != len(d.Fields) {
				t.Fatalf("record %d has %d values for %d fields", i+1, len(vals), len(d.Fields))
			}
		}
	})
}

func saneGeometry(t *testing.T, g orb.Geometry) {
	t.Helper()
	pts := func(ps []orb.Point) {
		if len(ps) == 0 {
			t.Fatalf("%s with an empty part", g.GeoJSONType())
		}
		for _, p := range ps {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
				t.Fatalf("%s with a coordinate %v", g.GeoJSONType(), p)
			}
		}
	}
	switch g := g.(type) {
	case orb.Point:
		pts([]orb.Point{g})
	case orb.MultiPoint:
		pts(g)
	case orb.LineString:
		pts(g)
	case orb.MultiLineString:
		for _, l := range g {
			pts(l)
		}
	case orb.Polygon:
		for _, r := range g {
			pts(r)
		}
	case orb.MultiPolygon:
		if len(g) == 0 {
			t.Fatal("empty MultiPolygon")
		}
		for _, p := range g {
			for _, r := range p {
				pts(r)
			}
		}
	default:
		t.Fatalf("geometry %T", g)
	}
}
