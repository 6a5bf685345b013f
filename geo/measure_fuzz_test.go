package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// FuzzDistance checks Distance over any pair of positions: a length in
// metres, zero between a point and itself, the same both ways, and within
// the flattening's reach of the great circle on the authalic sphere (the
// ellipsoid's radius of curvature differs from the sphere's radius by less
// than 0.6 %).
func FuzzDistance(f *testing.F) {
	f.Add(121.5, 32.1, 121.6, 32.2)                   // Haimen
	f.Add(0.0, 0.0, 0.0, 1.0)                         // along a meridian
	f.Add(0.0, 0.0, 179.5, 0.5)                       // nearly antipodal: Vincenty does not converge
	f.Add(-180.0, -90.0, 180.0, 90.0)                 // pole to pole across the antimeridian
	f.Add(144.42487, -37.95103, 143.92650, -37.65282) // Flinders Peak → Buninyong
	f.Fuzz(func(t *testing.T, lon1, lat1, lon2, lat2 float64) {
		p, q := orb.Point{lon1, lat1}, orb.Point{lon2, lat2}
		if !inRange(p) || !inRange(q) {
			t.Skip()
		}
		d := Distance(p, q)
		if math.IsNaN(d) || math.IsInf(d, 0) || d < 0 || d > math.Pi*wgs84A {
			t.Fatalf("Distance(%v, %v) = %v, want a length between 0 and half the equator", p, q, d)
		}
		if self := Distance(p, p); self != 0 {
			t.Errorf("Distance(%v, itself) = %v, want 0", p, self)
		}
		if back := Distance(q, p); math.Abs(back-d) > 1e-9*d+1e-6 {
			t.Errorf("Distance(%v, %v) = %.9f but back = %.9f", p, q, d, back)
		}
		if gc := greatCircle(p, q); math.Abs(d-gc) > 0.006*gc+1e-3 {
			t.Errorf("Distance(%v, %v) = %.3f m, more than 0.6 %% from the great circle's %.3f m", p, q, d, gc)
		}
	})
}

func inRange(p orb.Point) bool {
	return p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}

// greatCircle is the haversine distance on the authalic sphere, written
// independently of Distance's fallback.
func greatCircle(p, q orb.Point) float64 {
	rad := math.Pi / 180
	dLat, dLon := (q[1]-p[1])*rad, (q[0]-p[0])*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(p[1]*rad)*math.Cos(q[1]*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * authalicRadius * math.Asin(math.Min(1, math.Sqrt(h)))
}
