package gpkg

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// Snapshots wait for a free reading slot, give up when their context
// ends, and free the slot when closed, or when they could not begin.
// (That they are let in in the order they came is the channel's: the
// runtime queues blocked senders first in, first out.)
func TestSnapshotSlots(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "planmap.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// Connections to spare: only the slots can make a snapshot wait.
	s.read.SetMaxOpenConns(cap(s.readSlots) + 4)
	var held []snapshotReader
	for range cap(s.readSlots) {
		r, err := s.snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, r)
	}
	if n := len(s.readSlots); n != cap(s.readSlots) {
		t.Fatalf("%d snapshots open, %d slots taken", cap(s.readSlots), n)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.snapshot(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("snapshot with every slot taken = %v, want it to wait until its deadline", err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := s.snapshot(ctx)
		if err == nil {
			r.close()
		}
		got <- err
	}()
	held[0].close()
	if err := <-got; err != nil {
		t.Fatalf("snapshot once a slot was freed = %v", err)
	}
	for _, r := range held[1:] {
		r.close()
	}
	if n := len(s.readSlots); n != 0 {
		t.Errorf("%d slots still taken after every snapshot closed", n)
	}
	// One made around another's transaction holds no slot to give back.
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	snapshotReader{s: s, tx: tx}.close()
	s.read.Close()
	if _, err := s.snapshot(ctx); err == nil {
		t.Fatal("snapshot on closed connections: no error")
	}
	if n := len(s.readSlots); n != 0 {
		t.Errorf("a snapshot that could not begin kept its slot: %d taken", n)
	}
}
