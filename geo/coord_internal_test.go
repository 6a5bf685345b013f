package geo

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// appendCoord must write what strconv writes, whatever the value.
func TestAppendCoordIsStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var values []float64
	for d := 0; d <= 12; d++ {
		p := math.Pow(10, float64(d))
		for i := 0; i < 20000; i++ {
			// Typed decimals, as layer files hold them.
			values = append(values, math.Round((r.Float64()*360-180)*p)/p)
			values = append(values, math.Round((r.Float64()*180-90)*p)/p)
			// Projected metres.
			values = append(values, math.Round(r.Float64()*2e7*p)/p)
		}
	}
	for i := 0; i < 100000; i++ {
		values = append(values, r.Float64()*360-180, math.Float64frombits(r.Uint64()))
	}
	values = append(values, 0, math.Copysign(0, -1), 1e-3, -1e-3, 999999.999999999, 1e6, 0.1, 0.2, 0.3,
		121.5, 32.0000000001, 31.999999999, 1e-9, 5e-324, math.MaxFloat64, math.Inf(1), math.NaN(), -121.48)
	for _, v := range values {
		got := string(appendCoord(nil, v))
		want := strconv.FormatFloat(v, 'f', -1, 64)
		if got != want {
			t.Fatalf("appendCoord(%v) = %s, want %s", v, got, want)
		}
	}
}

func BenchmarkAppendCoord(b *testing.B) {
	buf := make([]byte, 0, 32)
	for i := 0; i < b.N; i++ {
		buf = appendCoord(buf[:0], 121.4712345)
	}
}

func BenchmarkAppendFloat(b *testing.B) {
	buf := make([]byte, 0, 32)
	for i := 0; i < b.N; i++ {
		buf = strconv.AppendFloat(buf[:0], 121.4712345, 'f', -1, 64)
	}
}
