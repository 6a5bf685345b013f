package layers

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestAppendNumber checks the fast path of appendNumber against what it
// stands for, strconv's shortest 'g' form (with ".0" added to integers),
// on measures rounded as NewItem rounds them, on raw floats and on the
// edges of the fast path's range.
func TestAppendNumber(t *testing.T) {
	want := func(v float64) string {
		s := strconv.FormatFloat(v, 'g', -1, 64)
		for _, c := range s {
			if c == '.' || c == 'e' || c == 'E' || c == 'n' || c == 'N' {
				return s
			}
		}
		return s + ".0"
	}
	check := func(v float64) {
		t.Helper()
		if got := string(appendNumber(nil, v)); got != want(v) {
			t.Fatalf("appendNumber(%v) = %s, want %s", v, got, want(v))
		}
	}
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 12, 0.001, 0.00099999, 1e-4, 999999.99, 1e6, 1e6 + 0.5, 123456.7,
		0.1, 0.2, 0.3, 1.0 / 3, math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat64, math.SmallestNonzeroFloat64, 5e-324} {
		check(v)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		v := math.Exp(r.Float64()*40-20) * float64(1-2*r.IntN(2))
		check(v)
		for _, p := range pow10 {
			check(math.Round(v*p) / p)
		}
	}
}
