package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// WorldYNear must agree with WorldXY within the error asked for, inside
// its band (the band's edges and the series' reach included) and beyond
// it, and must use the series (not the exact formula throughout) over
// the tiles planmap makes.
func TestWorldYNear(t *testing.T) {
	places := []orb.Point{
		{121.9, 32.0}, // Haimen
		{0, 0},        // the equator
		{10, 60},      // far north
		{-70, -45},    // the south
		{170, 79},     // near where the series stops
		{-150, -84.9}, // past it: the exact formula only
	}
	for _, at := range places {
		for z := maptile.Zoom(0); z <= 22; z++ {
			tile := maptile.At(at, z)
			b := tile.Bound(64.0 / 4096)
			scale := math.Exp2(float64(z)) * 4096 // grid units per world
			maxErr := 1e-6 / scale
			n := NewWorldYNear(b.Min[1], b.Max[1], maxErr)
			if math.Abs(at[1]) < 75 && z >= 8 && n.reach <= 0 {
				t.Errorf("tile %v: the series is used nowhere", tile)
			}
			check := func(lat float64) {
				if math.Abs(lat) > MaxMercatorLat {
					return
				}
				_, want := WorldXY(orb.Point{0, lat})
				got := n.Y(lat)
				// Both formulas round. Near 80° the exact one's tangent
				// magnifies the rounding of its argument, and its answers
				// at two latitudes a few metres apart differ from the
				// truth by up to about 20 units in the last place of y:
				// more than maxErr at the highest zooms (1e-5 grid units
				// at z22, still nothing to rounding to the grid). Allow 32
				// beside maxErr.
				slack := 32 * (math.Nextafter(want, 2) - want)
				if math.Abs(got-want) > maxErr+slack {
					t.Fatalf("tile %v, latitude %v: %.17g, WorldXY %.17g (%.3g grid units apart)", tile, lat, got, want, (got-want)*scale)
				}
				// The series' own value, to a unit or two in the last
				// place (a compiler may fuse its multiplies and adds).
				if d := lat*(math.Pi/180) - n.lat0; math.Abs(d) < n.reach {
					if series := n.y0 + d*(n.c[0]+d*(n.c[1]+d*(n.c[2]+d*n.c[3]))); math.Abs(got-series) > slack/16 {
						t.Fatalf("tile %v, latitude %v, within reach: %v, not the series' %v", tile, lat, got, series)
					}
				}
			}
			span := b.Max[1] - b.Min[1]
			for i := 0; i <= 400; i++ {
				check(b.Min[1] - span + 3*span*float64(i)/400)
			}
			// Where the remainder is largest: just inside the reach.
			for _, d := range []float64{-n.reach, n.reach} {
				check((n.lat0 + d*(1-1e-12)) * 180 / math.Pi)
			}
		}
	}
}

// Bands that are none, and errors that are not positive, take the exact
// formula everywhere, as does the zero WorldYNear.
func TestWorldYNearExact(t *testing.T) {
	for _, n := range []WorldYNear{
		{},
		NewWorldYNear(32.1, 32.0, 1e-9),       // south of north
		NewWorldYNear(math.NaN(), 32.0, 1e-9), // no band
		NewWorldYNear(32.0, 32.1, 0),          // no error allowed
		NewWorldYNear(32.0, 32.1, -1),         // a negative one
		NewWorldYNear(32.0, 32.1, math.NaN()), // none at all
		NewWorldYNear(32.0, 32.0, 1e-9),       // a band of no height
		NewWorldYNear(79.5, 80.5, 1e-9),       // past 80°
	} {
		for _, lat := range []float64{-60, 0, 32.0, 32.05, 32.1, 80} {
			_, want := WorldXY(orb.Point{0, lat})
			if got := n.Y(lat); got != want {
				t.Errorf("%+v: Y(%v) = %v, want WorldXY's %v", n, lat, got, want)
			}
		}
	}
}
