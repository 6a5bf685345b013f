package layers

import (
	"math"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/paulmach/orb"
)

// A lean item's properties, read back from its JSON, are the ones it was
// made with, typed alike: a cached feature looks the same to every
// reader (pages, sheets, statistics, tiles) as one read from the store.
func FuzzLeanProperties(f *testing.F) {
	f.Add("海港生态公园", int64(3), 12.0, true, "2021-03-12")
	f.Add(`quote " and \ and </script>`, int64(math.MaxInt64), 1e-7, false, "")
	f.Add("\u2028\x00\t", int64(math.MinInt64), -2.5e21, true, "{\"a\":[1,\"]\"]}")
	f.Add("", int64(0), math.SmallestNonzeroFloat64, false, "1e3")
	f.Add("12", int64(-1), math.MaxFloat64, true, "null")
	f.Fuzz(func(t *testing.T, s string, n int64, x float64, b bool, d string) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Skip("not a JSON number") // NewItem's JSON could not hold it either
		}
		if !utf8.ValidString(s) || !utf8.ValidString(d) {
			t.Skip("not UTF-8") // served as U+FFFD, as JSON must
		}
		props := map[string]any{"status": s, "phase": n, "area_mu": x, "public": b}
		if d != "" {
			props["opened"] = d
		}
		it := NewItem(statsLayer, Feature{ID: 7, Properties: props, Geometry: square(121.3, 31.9, 0.001)})
		lean := it.Lean()
		if lean.Feature.Properties != nil || it.Feature.Properties == nil {
			t.Fatal("Lean kept the map or took it from the item")
		}
		if got := lean.Properties(); !reflect.DeepEqual(got, props) {
			t.Fatalf("lean properties of %s = %#v, want %#v", it.Props, got, props)
		}
		fields := []string{"area_mu", "status", "nothing", ClassField, "phase", "status", "opened", "public"}
		full := AppendShapes(nil, statsLayer, []*Item{it}, fields)
		read := AppendShapes(nil, statsLayer, []*Item{lean}, fields)
		if !reflect.DeepEqual(read, full) {
			t.Fatalf("lean shape values of %s = %#v, want %#v", it.Props, read[0].Values, full[0].Values)
		}
		for _, name := range fields {
			if got, want := lean.Value(name), it.Value(name); !reflect.DeepEqual(got, want) {
				t.Fatalf("lean Value(%s) of %s = %#v, want %#v", name, it.Props, got, want)
			}
		}
	})
}

// Measures are not properties; a feature with no properties has an empty
// map.
func TestLeanPropertiesMeasures(t *testing.T) {
	it := NewItem(statsLayer, Feature{ID: 1, Geometry: orb.MultiPolygon{square(121.3, 31.9, 0.01)[0]}})
	lean := it.Lean()
	if lean != it {
		t.Error("Lean copied an item without a property map")
	}
	if got := lean.Properties(); len(got) != 0 {
		t.Errorf("properties of %s = %v, want none", it.Props, got)
	}
	if v := lean.Value(AreaM2); v != nil {
		t.Errorf("Value(%s) = %v; a measure is not a property", AreaM2, v)
	}
}
