package layers

import (
	"math"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
)

// An unpacked item has the properties it was made with, read back from
// its JSON, typed alike and byte for byte: a cached feature looks the same
// to every reader (pages, sheets, statistics, tiles) as one read from the
// store.
func FuzzCompactProperties(f *testing.F) {
	f.Add("海港生态公园", int64(3), 12.0, true, "2021-03-12")
	f.Add(`quote " and \ and </script>`, int64(math.MaxInt64), 1e-7, false, "")
	f.Add("\u2028\u2029\x00\t\r\n\x1f", int64(math.MinInt64), -2.5e21, true, `{"a":[1,"]"]}`)
	f.Add("\xff\\\xfe", int64(0), math.SmallestNonzeroFloat64, false, "1e3")
	f.Add("12", int64(-1), math.NaN(), true, "null")
	f.Add("", int64(1), math.Inf(-1), true, "\\u0041")
	f.Fuzz(func(t *testing.T, s string, n int64, x float64, b bool, d string) {
		// Every asked field present in some items, so that values stops
		// once it has them all.
		props := map[string]any{"status": s, "phase": n, "area_mu": x, "public": b, ClassField: "R2"}
		if d != "" {
			props["opened"] = d
		}
		other := map[string]any{"status": d, "phase": n + 1, "public": b}
		var full, small []*Item
		for i, p := range []map[string]any{props, other, props, props} {
			it := NewItem(statsLayer, Feature{ID: int64(i + 1), Properties: p, Geometry: square(121.3, 31.9, 0.001)})
			full, small = append(full, it), append(small, compact(t, it))
			if small[i].props != nil || it.props == nil {
				t.Fatal("packing kept the map or took it from the item")
			}
			if got := small[i].Properties(); !sameValues(got, p) {
				t.Fatalf("small properties of %s = %#v, want %#v", it.Props, got, p)
			}
		}
		fields := []string{"area_mu", "status", "nothing", ClassField, "phase", "status", "opened", "public", AreaM2}
		want := AppendShapes(nil, statsLayer, full, fields)
		for i, sh := range AppendShapes(nil, statsLayer, small, fields) {
			if !sameValues(sh.Values, want[i].Values) {
				t.Fatalf("small shape %d's values = %#v, want %#v", i, sh.Values, want[i].Values)
			}
			if !orb.Equal(sh.Geometry, want[i].Geometry) {
				t.Fatalf("small shape %d's geometry = %v, want %v", i, sh.Geometry, want[i].Geometry)
			}
		}
		for i := range small {
			for _, name := range fields {
				if got, want := small[i].Value(name), full[i].Value(name); !sameValues(got, want) {
					t.Fatalf("small Value(%s) of %s = %#v, want %#v", name, full[i].Props, got, want)
				}
			}
		}
	})
}

// sameValues is reflect.DeepEqual with NaN equal to itself.
func sameValues(a, b any) bool {
	switch a := a.(type) {
	case float64:
		b, ok := b.(float64)
		return ok && (a == b || math.IsNaN(a) && math.IsNaN(b))
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValues(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameValues(v, w) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// Measures are not properties; a feature with no properties has an empty
// map.
func TestCompactPropertiesMeasures(t *testing.T) {
	it := NewItem(statsLayer, Feature{ID: 1, Geometry: orb.MultiPolygon{square(121.3, 31.9, 0.01)[0]}})
	small := compact(t, it)
	if got := small.Properties(); len(got) != 0 {
		t.Errorf("properties of %s = %v, want none", it.Props, got)
	}
	if v := small.Value(AreaM2); v != nil {
		t.Errorf("Value(%s) = %v; a measure is not a property", AreaM2, v)
	}
}

// Values of a type no store gives a field are written by Marshal; they
// read back as encoding/json reads them.
func TestCompactPropertiesOther(t *testing.T) {
	l := &Layer{ID: "x", GeometryType: "Point", Schema: []Field{{Name: "a", Type: String}, {Name: "b", Type: String}}}
	it := NewItem(l, Feature{ID: 1, Properties: map[string]any{"a": map[string]any{"k": []any{1.5, "]}"}}, "b": "after"}, Geometry: orb.Point{121.3, 31.9}})
	got := compact(t, it).Properties()
	want := map[string]any{"a": map[string]any{"k": []any{1.5, "]}"}}, "b": "after"}
	if !sameValues(got, want) {
		t.Errorf("properties of %s = %#v, want %#v", it.Props, got, want)
	}
}
