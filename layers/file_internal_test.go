package layers

import "testing"

func TestCountRest(t *testing.T) {
	tests := []struct {
		name, rest string
		want       int
	}{
		{"End", "]", 0},
		{"EndAfterSpace", " \n]", 0},
		{"Numbers", ", 1, 2]", 2},
		{"Nested", `, [1, 2], {"a": [3, {"b": 4}]}, {}]`, 3},
		{"CommasInStrings", `, "a,b", {"c,": "]},["}]`, 2},
		{"EscapedQuote", `, "x\",y", "\\", ","]`, 3},
		{"AfterArrayEnd", `], "name": "a,b"}`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := countRest([]byte(tt.rest)); got != tt.want {
				t.Errorf("countRest(%s) = %d, want %d", tt.rest, got, tt.want)
			}
		})
	}
}
