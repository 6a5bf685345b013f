package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
)

// WorldYNear must agree with WorldXY within the error asked for, inside
// its band and beyond it, and must be a series (not the exact formula
// throughout) over the tiles planmap makes.
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
		for z := maptile.Zoom(0); z <= 22; z += 2 {
			tile := maptile.At(at, z)
			b := tile.Bound(64.0 / 4096)
			scale := math.Exp2(float64(z)) * 4096 // grid units per world
			maxErr := 1e-6 / scale
			n := NewWorldYNear(b.Min[1], b.Max[1], maxErr)
			if math.Abs(at[1]) < 75 && z >= 8 && n.reach <= 0 {
				t.Errorf("tile %v: the series is used nowhere", tile)
			}
			span := b.Max[1] - b.Min[1]
			for i := 0; i <= 400; i++ {
				lat := b.Min[1] - span + 3*span*float64(i)/400
				if math.Abs(lat) > MaxMercatorLat {
					continue
				}
				_, want := WorldXY(orb.Point{0, lat})
				if got := n.Y(lat); math.Abs(got-want) > maxErr+1e-15 {
					t.Fatalf("tile %v, latitude %v: %.17g, WorldXY %.17g (%.3g grid units apart)", tile, lat, got, want, (got-want)*scale)
				}
			}
		}
	}
}
