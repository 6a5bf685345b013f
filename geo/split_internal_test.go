package geo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// TestSplitMatchesUnmarshal checks that split cuts a JSON value into the
// elements json.Unmarshal into a []json.RawMessage gives, and refuses what
// it refuses.
func TestSplitMatchesUnmarshal(t *testing.T) {
	for _, raw := range []string{
		`null`, `[]`, ` [ ] `, `[1,2]`, `[ 1 , -2.5e3 , 3 ]`, `[[1,2],[3,4]]`,
		`[[[1,2],[3,4]], [[5,6]]]`, `["a,]b", {"x": [1, "]"]}, "\"", null]`,
		`{"a": 1}`, `"s"`, `12`, `true`, "[\n\t1,\r\n 2\n]", `[[]]`, `[null]`,
	} {
		var want []json.RawMessage
		wantErr := json.Unmarshal([]byte(raw), &want)
		got, ok := (&decoder{}).split([]byte(raw))
		if ok != (wantErr == nil) {
			t.Errorf("split(%s) ok = %t, Unmarshal error %v", raw, ok, wantErr)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("split(%s) = %q, want %q", raw, got, want)
			continue
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Errorf("split(%s)[%d] = %s, want %s", raw, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkDecodeGeoJSONMembers decodes the coordinates of a polygon of
// 200 vertices with a hole, which geo's splitter cuts level by level.
func BenchmarkDecodeGeoJSONMembers(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("[[")
	for i := range 200 {
		if i > 0 {
			buf.WriteString(", ")
		}
		fmt.Fprintf(&buf, "[%.7f, %.7f]", 121.4+float64(i%20)*0.0001, 32.07+float64(i/20)*0.0001)
	}
	buf.WriteString("], [[121.40005, 32.07005], [121.40006, 32.07005], [121.40006, 32.07006], [121.40005, 32.07005]]]")
	coords := json.RawMessage(buf.Bytes())
	b.SetBytes(int64(len(coords)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeGeoJSONMembers("Polygon", coords); err != nil {
			b.Fatal(err)
		}
	}
}
