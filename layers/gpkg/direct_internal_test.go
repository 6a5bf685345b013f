package gpkg

import (
	"slices"
	"testing"
)

// The changes no planmap write covers: before, between and after the
// writes' ranges (first, last], which may begin before lo, end after hi,
// or touch.
func TestGaps(t *testing.T) {
	for _, c := range []struct {
		lo, hi int64
		writes []seqRange
		want   []seqRange
	}{
		{1, 10, nil, []seqRange{{0, 10}}},
		{5, 5, nil, []seqRange{{4, 5}}},
		{1, 10, []seqRange{{0, 10}}, nil},
		{1, 10, []seqRange{{3, 6}}, []seqRange{{0, 3}, {6, 10}}},
		{1, 10, []seqRange{{0, 4}, {4, 7}}, []seqRange{{7, 10}}},         // touching
		{5, 10, []seqRange{{2, 6}, {8, 9}}, []seqRange{{6, 8}, {9, 10}}}, // one begun before lo
		{1, 6, []seqRange{{3, 9}}, []seqRange{{0, 3}}},                   // one ended after hi
		{1, 10, []seqRange{{1, 2}, {3, 4}}, []seqRange{{0, 1}, {2, 3}, {4, 10}}},
		{5, 5, []seqRange{{4, 5}}, nil},
	} {
		if got := gaps(c.lo, c.hi, c.writes); !slices.Equal(got, c.want) {
			t.Errorf("gaps(%d, %d, %v) = %v, want %v", c.lo, c.hi, c.writes, got, c.want)
		}
	}
}
