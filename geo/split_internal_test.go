package geo

import (
	"bytes"
	"encoding/json"
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
