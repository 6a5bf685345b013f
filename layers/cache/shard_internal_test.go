package cache

import (
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// Records freed by evictions and drops are used again: a shard holding
// about the same number of entries keeps about the same number of
// records, however many come and go.
func TestShardReusesRecords(t *testing.T) {
	l := &layers.Layer{ID: "x", GeometryType: "Point", Schema: []layers.Field{{Name: "name", Type: layers.String}}}
	pack := func(fid int64) (layers.Packed, int64) {
		it := layers.NewItem(l, layers.Feature{ID: fid, Properties: map[string]any{"name": "a"}, Geometry: orb.Point{121.3, 31.9}})
		p, err := it.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return p, heldSize(&p)
	}
	_, size := pack(1)
	var s shard
	s.init(10 * size)
	for fid := range int64(1000) {
		p, size := pack(fid)
		s.putItem("x", p, size)
		if fid%7 == 0 {
			s.putQuery("x", &heldQuery{key: string(rune(fid))}, recOverhead+queryOverhead)
		}
		if fid%100 == 99 {
			s.dropQueries("x")
		}
	}
	if err := s.check(); err != nil {
		t.Fatal(err)
	}
	if len(s.recs) > 1+12 {
		t.Errorf("a shard of about 10 entries made %d records for 1,000 features and 143 answers", len(s.recs)-1)
	}
	if n := len(s.layers["x"].items); n < 8 || n > 10 {
		t.Errorf("%d features held, want the last 8-10", n)
	}
}
