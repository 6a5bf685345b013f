package layers

import (
	"bytes"
	"fmt"
	"testing"
)

// featuresArray is the inside of a features array of n parcels like
// layerstest.Parcels' (which this package's own tests cannot import),
// after its [: names with commas and brackets in them, escapes,
// coordinates.
func featuresArray(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		x, y := 121.4+float64(i%300)*0.0005, 32.0+float64(i/300)*0.0005
		fmt.Fprintf(&b, `{"type": "Feature", "id": %d, "properties": {"name_zh": "地块 %d（合成, [示意]）", "name_en": "Parcel \"%d\", {synthetic}", "landuse_gb50137": "R2", "status": "planned"}, `+
			`"geometry": {"type": "MultiPolygon", "coordinates": [[[[%.7f, %.7f], [%.7f, %.7f], [%.7f, %.7f], [%.7f, %.7f], [%.7f, %.7f]]]]}}`,
			i+1, i+1, i+1, x, y, x+0.0004, y, x+0.0004, y+0.0004, x, y+0.0004, x, y)
	}
	b.WriteString("]")
	return b.Bytes()
}

// BenchmarkSplitArray cuts 20,000 features out of a features array read
// in pieces, as import does from disk.
func BenchmarkSplitArray(b *testing.B) {
	data := featuresArray(20_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := splitArray(bytes.NewReader(data), func([]byte) bool { n++; return true }); err != nil || n != 20_000 {
			b.Fatalf("splitArray = %d values, %v; want 20000", n, err)
		}
	}
}

// BenchmarkCountRest counts the 20,000 features of a features array.
func BenchmarkCountRest(b *testing.B) {
	data := featuresArray(20_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if n := countRest(data); n != 19_999 {
			b.Fatalf("countRest = %d, want 19999", n)
		}
	}
}
