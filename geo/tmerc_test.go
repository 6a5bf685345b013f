package geo_test

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers/layerstest"
)

// gdalPair is one position and where GDAL puts it: fwd from CGCS2000
// lon/lat (x, y) to the zone's easting/northing (x2, y2), inv the other way.
type gdalPair struct {
	dir      string
	epsg     int
	from, to orb.Point
}

func readGDALPairs(t *testing.T, data []byte) []gdalPair {
	t.Helper()
	var pairs []gdalPair
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 0; sc.Scan(); line++ {
		f := strings.Split(sc.Text(), "\t")
		if line == 0 {
			continue
		}
		if len(f) != 6 {
			t.Fatalf("line %d: %d columns, want 6", line+1, len(f))
		}
		var v [5]float64
		for i := range v {
			x, err := strconv.ParseFloat(f[i+1], 64)
			if err != nil {
				t.Fatalf("line %d: %v", line+1, err)
			}
			v[i] = x
		}
		pairs = append(pairs, gdalPair{f[0], int(v[0]), orb.Point{v[1], v[2]}, orb.Point{v[3], v[4]}})
	}
	return pairs
}

// metres between two lon/lat positions a few millimetres apart.
func lonLatMetres(a, b orb.Point) float64 {
	const r = 6378137.0
	dy := (a[1] - b[1]) * math.Pi / 180 * r
	dx := (a[0] - b[0]) * math.Pi / 180 * r * math.Cos(a[1]*math.Pi/180)
	return math.Hypot(dx, dy)
}

// checkAgainstGDAL compares our projection with GDAL's numbers, which
// gdaltransform prints to 15 significant digits (a tenth of a millimetre).
func checkAgainstGDAL(t *testing.T, pairs []gdalPair) {
	t.Helper()
	const tol = 0.001 // metres
	worst := 0.0
	for _, p := range pairs {
		tm := geo.CGCS2000GaussKruger(p.epsg)
		if tm == nil {
			t.Fatalf("CGCS2000GaussKruger(%d) = nil", p.epsg)
		}
		var d float64
		var got orb.Point
		if p.dir == "fwd" {
			got = tm.Forward(p.from)
			d = math.Hypot(got[0]-p.to[0], got[1]-p.to[1])
		} else {
			got = tm.Inverse(p.from)
			d = lonLatMetres(got, p.to)
		}
		worst = math.Max(worst, d)
		if d > tol {
			t.Errorf("EPSG:%d %s %v = %.9f, GDAL says %.9f: %.4f m apart", p.epsg, p.dir, p.from, got, p.to, d)
		}
	}
	t.Logf("%d positions, worst %.2g m from GDAL", len(pairs), worst)
}

func TestTransverseMercatorGDAL(t *testing.T) {
	data, err := os.ReadFile("testdata/tmerc_gdal.tsv")
	if err != nil {
		t.Fatal(err)
	}
	pairs := readGDALPairs(t, data)
	if len(pairs) < 900 {
		t.Fatalf("testdata/tmerc_gdal.tsv has %d positions, want the whole grid", len(pairs))
	}
	checkAgainstGDAL(t, pairs)
}

// TestTransverseMercatorGDALLive asks the installed GDAL directly, on
// another grid than the fixture's, so that the fixture cannot drift from
// what GDAL computes.
func TestTransverseMercatorGDALLive(t *testing.T) {
	gt := layerstest.RequireTool(t, "gdaltransform")
	var pairs []gdalPair
	for _, z := range []struct{ epsg, cm int }{{4516, 84}, {4528, 120}, {4540, 93}, {4549, 120}} {
		zone := fmt.Sprintf("EPSG:%d", z.epsg)
		var lonLat []orb.Point
		var in bytes.Buffer
		for d := -2.25; d <= 2.25; d += 0.75 {
			for lat := 18.5; lat <= 54; lat += 5 {
				p := orb.Point{float64(z.cm) + d, lat}
				lonLat = append(lonLat, p)
				fmt.Fprintf(&in, "%.10f %.10f\n", p[0], p[1])
			}
		}
		projected := run(t, gt, in.Bytes(), "-s_srs", "EPSG:4490", "-t_srs", zone)
		in.Reset()
		for i, p := range projected {
			pairs = append(pairs, gdalPair{"fwd", z.epsg, lonLat[i], p})
			fmt.Fprintf(&in, "%.9f %.9f\n", p[0], p[1])
		}
		for i, p := range run(t, gt, in.Bytes(), "-s_srs", zone, "-t_srs", "EPSG:4490") {
			pairs = append(pairs, gdalPair{"inv", z.epsg, projected[i], p})
		}
	}
	checkAgainstGDAL(t, pairs)
}

func run(t *testing.T, prog string, stdin []byte, args ...string) []orb.Point {
	t.Helper()
	cmd := exec.Command(prog, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v", prog, strings.Join(args, " "), err)
	}
	var pts []orb.Point
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Fatalf("%s printed %q", prog, line)
		}
		x, err1 := strconv.ParseFloat(f[0], 64)
		y, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s printed %q", prog, line)
		}
		pts = append(pts, orb.Point{x, y})
	}
	if want := bytes.Count(stdin, []byte("\n")); len(pts) != want {
		t.Fatalf("%s printed %d positions for %d", prog, len(pts), want)
	}
	return pts
}

func TestTransverseMercatorRoundTrip(t *testing.T) {
	tm := geo.CGCS2000GaussKruger(4549)
	for lon := 116.0; lon <= 124; lon += 0.25 {
		for lat := 0.0; lat <= 60; lat += 2.5 {
			p := orb.Point{lon, lat}
			back := tm.Inverse(tm.Forward(p))
			if d := lonLatMetres(p, back); d > 1e-6 {
				t.Errorf("Inverse(Forward(%v)) = %v, %.3g m off", p, back, d)
			}
		}
	}
	// On the central meridian at the equator: the false easting, northing 0.
	if got := tm.Forward(orb.Point{120, 0}); math.Abs(got[0]-500000) > 1e-9 || math.Abs(got[1]) > 1e-9 {
		t.Errorf("Forward(120, 0) = %v, want 500000, 0", got)
	}
}

func TestCGCS2000GaussKruger(t *testing.T) {
	tests := []struct {
		epsg     int
		cm, east float64 // central meridian, and the easting on it
	}{
		{4513, 75, 25500000}, {4528, 120, 40500000}, {4533, 135, 45500000},
		{4534, 75, 500000}, {4549, 120, 500000}, {4554, 135, 500000},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.epsg), func(t *testing.T) {
			got := geo.CGCS2000GaussKruger(tt.epsg).Forward(orb.Point{tt.cm, 32})
			if math.Abs(got[0]-tt.east) > 1e-6 {
				t.Errorf("Forward(%g, 32) easting = %.6f, want %.0f", tt.cm, got[0], tt.east)
			}
		})
	}
	for _, epsg := range []int{4490, 4512, 4555, 32651} {
		if tm := geo.CGCS2000GaussKruger(epsg); tm != nil {
			t.Errorf("CGCS2000GaussKruger(%d) = %v, want nil", epsg, tm)
		}
	}
}
