package filecache_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"planmap/web/filecache"
)

var ctx = context.Background()

// content builds a file of n copies of b, slowly enough that concurrent
// callers overlap.
func content(b byte, n int) filecache.Builder {
	return filecache.WriterBuilder(func(ctx context.Context, w io.Writer) error {
		time.Sleep(20 * time.Millisecond)
		_, err := w.Write(bytes.Repeat([]byte{b}, n))
		return err
	})
}

func mustGet(t *testing.T, c *filecache.Cache, resource, version string, build filecache.Builder) (*filecache.File, []byte) {
	t.Helper()
	f, err := c.Get(ctx, resource, version, build)
	if err != nil {
		t.Fatalf("Get(%s, %s): %v", resource, version, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != f.Size {
		t.Errorf("Get(%s, %s): read %d bytes, Size says %d", resource, version, len(b), f.Size)
	}
	return f, b
}

// dirSize is the total size of the files in dir but the cache's marker.
func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		fi, err := e.Info()
		if err == nil && e.Name() != ".planmap-cache" {
			n += fi.Size()
		}
	}
	return n
}

func TestOneBuildForConcurrentCalls(t *testing.T) {
	c, err := filecache.Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	etags := make([]string, 20)
	for i := range etags {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, b := mustGet(t, c, "a", "v1", content('a', 1000))
			if len(b) != 1000 || b[0] != 'a' {
				t.Errorf("caller %d read %d bytes %q…", i, len(b), b[:1])
			}
			etags[i] = f.ETag
		}()
	}
	wg.Wait()
	if n := c.Builds(); n != 1 {
		t.Errorf("20 concurrent Gets started %d builds, want 1", n)
	}
	for _, e := range etags {
		if e != etags[0] || len(e) < 3 || e[0] != '"' {
			t.Fatalf("ETags %v, want one quoted strong ETag", etags)
		}
	}
	mustGet(t, c, "a", "v1", content('x', 1))
	if n := c.Builds(); n != 1 {
		t.Errorf("a cached Get built again (%d builds)", n)
	}
	f, b := mustGet(t, c, "a", "v2", content('b', 10))
	if c.Builds() != 2 || f.ETag == etags[0] || string(b) != "bbbbbbbbbb" {
		t.Errorf("a new version: %d builds, ETag %s (was %s), %q", c.Builds(), f.ETag, etags[0], b)
	}
	if got := dirSize(t, c.Dir()); got != 10 {
		t.Errorf("the directory holds %d bytes: the old version was not removed", got)
	}
}

func TestBudget(t *testing.T) {
	dir := t.TempDir()
	const budget = 2500
	c, err := filecache.Open(dir, budget)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range []string{"a", "b", "c", "a", "d", "e"} {
		mustGet(t, c, r, "v1", content(r[0], 1000))
		if c.Size() > budget || dirSize(t, dir) > budget {
			t.Fatalf("after Get %d (%s): cache size %d, directory %d bytes, budget %d", i, r, c.Size(), dirSize(t, dir), budget)
		}
	}
	// The two most recently used are kept.
	before := c.Builds()
	mustGet(t, c, "d", "v1", content('d', 1000))
	mustGet(t, c, "e", "v1", content('e', 1000))
	if c.Builds() != before {
		t.Errorf("the two most recent files were rebuilt")
	}
	if _, err := c.Get(ctx, "huge", "v1", content('h', budget+1)); !errors.Is(err, filecache.ErrTooLarge) {
		t.Errorf("Get of a file over the budget = %v, want ErrTooLarge", err)
	}
	if dirSize(t, dir) > budget {
		t.Errorf("a refused file stayed: %d bytes", dirSize(t, dir))
	}
}

func TestFailedBuildIsNotKept(t *testing.T) {
	c, err := filecache.Open(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	_, err = c.Get(ctx, "a", "v1", func(ctx context.Context, path string) error {
		os.WriteFile(path, []byte("half"), 0o644)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Get = %v, want the build's error", err)
	}
	if _, b := mustGet(t, c, "a", "v1", content('a', 3)); string(b) != "aaa" {
		t.Errorf("after a failed build Get read %q, want a new build", b)
	}
}

func TestOpenCleans(t *testing.T) {
	dir := t.TempDir()
	c, err := filecache.Open(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	mustGet(t, c, "a", "v1", content('a', 100))
	os.WriteFile(filepath.Join(dir, "7-left.part"), []byte("a killed server's half file"), 0o644)
	if _, err := filecache.Open(dir, 1<<20); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("after Open the directory holds %d entries, want only the marker", len(entries))
	}

	t.Run("ErrForeignDirectory", func(t *testing.T) {
		dir := t.TempDir()
		mine := filepath.Join(dir, "notes.txt")
		os.WriteFile(mine, []byte("mine"), 0o644)
		if _, err := filecache.Open(dir, 1<<20); err == nil {
			t.Error("Open of a directory with someone's files succeeded")
		}
		if _, err := os.Stat(mine); err != nil {
			t.Errorf("Open removed a file it did not make: %v", err)
		}
	})
}
