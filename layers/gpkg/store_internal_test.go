package gpkg

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"planmap/layers"
)

func TestCheckImmutable(t *testing.T) {
	tests := []struct {
		name string
		wal  []byte // the -wal beside the database; nil for none
		want string // in the error; "" for none
	}{
		{"OKNoWAL", nil, ""},
		{"OKEmptyWAL", []byte{}, ""},
		{"ErrWALWithChanges", []byte("frames"), "has un-checkpointed changes in "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "planmap.gpkg")
			if tt.wal != nil {
				if err := os.WriteFile(path+"-wal", tt.wal, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := checkImmutable(path)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("checkImmutable = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || layers.ErrorCode(err) != layers.ECONFLICT):
				t.Errorf("checkImmutable = %v (code %s), want layers.ECONFLICT with %q", err, layers.ErrorCode(err), tt.want)
			}
		})
	}
}
