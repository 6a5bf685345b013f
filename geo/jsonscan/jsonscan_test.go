package jsonscan_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"planmap/geo/jsonscan"
)

// cut returns the values of the array whose contents (after its '[')
// pieces hold, trimmed, and whether its closing bracket was found, read
// piece by piece.
func cut(pieces ...[]byte) (values [][]byte, closed bool) {
	var a jsonscan.Array
	var cur []byte
	for _, b := range pieces {
		for len(b) > 0 {
			i, c := a.Next(b)
			if i < 0 {
				cur = append(cur, b...)
				break
			}
			cur = append(cur, b[:i]...)
			b = b[i+1:]
			v := bytes.TrimSpace(cur)
			cur = nil
			if c == ']' {
				if len(v) > 0 || len(values) > 0 {
					values = append(values, v)
				}
				return values, true
			}
			values = append(values, v)
		}
	}
	return values, false
}

func TestNext(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		closed   bool
	}{
		{"Empty", `]`, nil, true},
		{"EmptySpaced", " \n\t]", nil, true},
		{"Numbers", `1, -2.5e3 ,3]`, []string{"1", "-2.5e3", "3"}, true},
		{"Nested", `[1, 2], {"a": [3, {"b": 4}]}, {}]`, []string{"[1, 2]", `{"a": [3, {"b": 4}]}`, "{}"}, true},
		{"CommasAndBracketsInStrings", `"a,b", {"c,": "]},["}]`, []string{`"a,b"`, `{"c,": "]},["}`}, true},
		{"EscapedQuote", `"x\",y", "\\", ","]`, []string{`"x\",y"`, `"\\"`, `","`}, true},
		{"EscapedBackslashThenQuote", `"a\\\"]", 2]`, []string{`"a\\\"]"`, "2"}, true},
		{"Unicode", `"港西,大道", "\u6e2f"]`, []string{`"港西,大道"`, `"\u6e2f"`}, true},
		{"AfterTheEnd", `1], "name": "a,b"}`, []string{"1"}, true},
		{"Unclosed", `1, [2, 3`, []string{"1"}, false},
		{"StrayBrace", `1}, 2]`, []string{"1}", "2"}, true},
		{"EmptyValue", `1,,2]`, []string{"1", "", "2"}, true},
		{"TrailingComma", `1,]`, []string{"1", ""}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Whole, then cut in two at every byte, then byte by byte: the
			// state carries over between pieces.
			in := []byte(tt.in)
			tries := [][][]byte{{in}}
			for k := range in {
				tries = append(tries, [][]byte{in[:k], in[k:]})
			}
			var bytewise [][]byte
			for k := range in {
				bytewise = append(bytewise, in[k:k+1])
			}
			tries = append(tries, bytewise)
			for _, pieces := range tries {
				got, closed := cut(pieces...)
				if closed != tt.closed || len(got) != len(tt.want) {
					t.Fatalf("cut(%q in %d pieces) = %q, closed %t; want %q, closed %t", tt.in, len(pieces), got, closed, tt.want, tt.closed)
				}
				for i := range got {
					if string(got[i]) != tt.want[i] {
						t.Fatalf("cut(%q in %d pieces)[%d] = %s, want %s", tt.in, len(pieces), i, got[i], tt.want[i])
					}
				}
			}
		})
	}
}

// FuzzNext: on any JSON array, the values cut are those encoding/json
// decodes into a []json.RawMessage, in one piece or in two.
func FuzzNext(f *testing.F) {
	for _, s := range []string{`[]`, `[1,2]`, `[[1,[2]],{"a":"]"}]`, `["\"", "\\", "a,b"]`, ` [ null , true ] `, `[{"x":[{}]},[]]`} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, raw []byte, at int) {
		var want []json.RawMessage
		if json.Unmarshal(raw, &want) != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return
		}
		body := bytes.TrimSpace(raw)[1:]
		at = min(max(at, 0), len(body))
		got, closed := cut(body[:at], body[at:])
		if !closed || len(got) != len(want) {
			t.Fatalf("cut(%s) = %q, closed %t; want %q", raw, got, closed, want)
		}
		for i := range got {
			if !bytes.Equal(got[i], bytes.TrimSpace(want[i])) {
				t.Fatalf("cut(%s)[%d] = %s, want %s", raw, i, got[i], want[i])
			}
		}
	})
}
