package layers_test

import (
	"testing"

	"planmap/layers"
)

func TestMatchesVersion(t *testing.T) {
	for _, tt := range []struct {
		name, ifMatch string
		want          bool
	}{
		{"Empty", "", true},
		{"Star", "*", true},
		{"Bare", "3k9x", true},
		{"Quoted", `"3k9x"`, true},
		{"Weak", `W/"3k9x"`, true},
		{"GzipDash", `W/"3k9x-gzip"`, true},
		{"GzipSemicolon", `"3k9x;gzip"`, true},
		{"Spaces", `  "3k9x" `, true},
		{"ErrOther", `"3k9y"`, false},
		{"ErrPrefix", `"3k9"`, false},
		{"ErrList", `"3k9x", "abc"`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := layers.MatchesVersion(tt.ifMatch, "3k9x"); got != tt.want {
				t.Errorf("MatchesVersion(%q, 3k9x) = %v, want %v", tt.ifMatch, got, tt.want)
			}
		})
	}
}
