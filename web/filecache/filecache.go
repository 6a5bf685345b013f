// Package filecache keeps files built from versions of some data (the
// downloads of planmap: a GeoPackage, a GeoJSON or KML file) in one
// directory, within a byte budget: each (resource, version) is built once,
// however many clients ask for it at the same time, and served from disk
// until the data changes or the budget needs the room.
//
//	c, err := filecache.Open("/var/cache/planmap", 512<<20)
//	f, err := c.Get(ctx, "gpkg/all", version, func(ctx context.Context, path string) error {
//		return store.ExportGPKG(ctx, path)
//	})
//	defer f.Close()
//	w.Header().Set("ETag", f.ETag)
//	http.ServeContent(w, r, name, f.ModTime, f)
package filecache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// marker names the file that says a directory is a planmap cache, which
// Open may empty.
const marker = ".planmap-cache"

// ErrTooLarge is returned by Get when a built file is larger than the
// whole budget: it could not be kept without going over it.
var ErrTooLarge = errors.New("filecache: the file is larger than the cache's budget")

// Builder writes the file of one version of a resource to path, which does
// not exist yet. It must write the whole file or return an error.
type Builder func(ctx context.Context, path string) error

// WriterBuilder makes a Builder of a function that streams the file.
func WriterBuilder(write func(ctx context.Context, w io.Writer) error) Builder {
	return func(ctx context.Context, path string) error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		if err := write(ctx, f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
}

// Cache is a directory of built files. It is safe for concurrent use. One
// process owns its directory. The budget bounds the files kept; a file
// being built is not counted until it is done.
type Cache struct {
	dir    string
	budget int64
	builds atomic.Int64

	mu       sync.Mutex
	entries  map[string]*entry // by resource: only the latest version is kept
	building map[string]*call  // by resource and version
	size     int64
	clock    int64
}

type entry struct {
	version string
	path    string
	size    int64
	etag    string
	modTime time.Time
	used    int64 // clock at last use, for evicting the least recently used
}

type call struct {
	done chan struct{}
	err  error
}

// File is a cached file opened for reading. Close it when done; the cache
// may remove its name meanwhile, which does not disturb reading it on
// systems that keep an open file (Unix).
type File struct {
	*os.File
	Size    int64
	ETag    string // strong and quoted, a hash of the content
	ModTime time.Time
}

// Open opens the cache in dir with a budget in bytes, creating dir if
// needed and removing what an earlier process left there (a killed
// server's files, say). A directory that holds anything but is not
// marked as a planmap cache is refused, never emptied.
func Open(dir string, budget int64) (*Cache, error) {
	if budget <= 0 {
		return nil, fmt.Errorf("filecache: budget %d bytes is not positive", budget)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	marked := false
	for _, n := range names {
		marked = marked || n.Name() == marker
	}
	if len(names) > 0 && !marked {
		return nil, fmt.Errorf("cache directory %s holds files and is not a planmap cache (no %s in it); planmap will not empty it: give another one", dir, marker)
	}
	for _, n := range names {
		if n.Name() != marker {
			if err := os.RemoveAll(filepath.Join(dir, n.Name())); err != nil {
				return nil, fmt.Errorf("clean cache directory: %w", err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, marker), []byte("planmap's download cache: emptied by each planmap serve that uses it\n"), 0o600); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	return &Cache{dir: dir, budget: budget, entries: map[string]*entry{}, building: map[string]*call{}}, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// Builds counts the builds this cache has started.
func (c *Cache) Builds() int64 { return c.builds.Load() }

// Get returns the file of version of resource, building it with build
// unless it is in the cache. Concurrent calls for the same version wait for
// one build. A build goes on when the caller that started it gives up, for
// the others and the next; a failed build is not kept, so the next Get
// tries again. Building a new version of a resource drops the old one.
func (c *Cache) Get(ctx context.Context, resource, version string, build Builder) (*File, error) {
	// A file can be dropped between its build and its opening (another
	// resource's build needed the room, or a newer version of it came);
	// then it is built again.
	for range 3 {
		c.mu.Lock()
		if f, ok := c.open(resource, version); ok {
			c.mu.Unlock()
			return f, nil
		}
		key := resource + "\x00" + version
		cl := c.building[key]
		if cl == nil {
			cl = &call{done: make(chan struct{})}
			c.building[key] = cl
			n := c.builds.Add(1)
			name := strconv.FormatInt(n, 10) + "-" + unsafeName.ReplaceAllString(resource, "_")
			go c.build(context.WithoutCancel(ctx), key, name, resource, version, build, cl)
		}
		c.mu.Unlock()
		select {
		case <-cl.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if cl.err != nil {
			return nil, cl.err
		}
	}
	return nil, fmt.Errorf("filecache: %s at version %s was dropped as soon as it was built, three times: the budget is too small for the downloads, or the data changes faster than they build", resource, version)
}

// open opens the cached file of resource at version, if there is one.
// c.mu is held.
func (c *Cache) open(resource, version string) (*File, bool) {
	e := c.entries[resource]
	if e == nil || e.version != version {
		return nil, false
	}
	f, err := os.Open(e.path)
	if err != nil {
		// Removed behind our back: forget it, and build it again.
		c.drop(resource)
		return nil, false
	}
	c.clock++
	e.used = c.clock
	return &File{File: f, Size: e.size, ETag: e.etag, ModTime: e.modTime}, true
}

var unsafeName = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

func (c *Cache) build(ctx context.Context, key, name, resource, version string, build Builder, cl *call) {
	defer close(cl.done)
	defer func() {
		c.mu.Lock()
		delete(c.building, key)
		c.mu.Unlock()
	}()
	path := filepath.Join(c.dir, name)
	tmp := path + ".part"
	cl.err = func() error {
		if err := build(ctx, tmp); err != nil {
			return err
		}
		etag, size, err := hashFile(tmp)
		if err != nil {
			return err
		}
		if size > c.budget {
			return fmt.Errorf("%s is %d bytes: %w of %d bytes", resource, size, ErrTooLarge, c.budget)
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		c.drop(resource)
		c.clock++
		c.entries[resource] = &entry{version: version, path: path, size: size, etag: etag, modTime: time.Now().UTC().Truncate(time.Second), used: c.clock}
		c.size += size
		c.evict(resource)
		return nil
	}()
	if cl.err != nil {
		os.Remove(tmp)
	}
}

// evict removes the least recently used files, never keep's, until the
// cache is within its budget. c.mu is held.
func (c *Cache) evict(keep string) {
	for c.size > c.budget {
		victim := ""
		for r, e := range c.entries {
			if r != keep && (victim == "" || e.used < c.entries[victim].used) {
				victim = r
			}
		}
		if victim == "" {
			return
		}
		c.drop(victim)
	}
}

// drop removes the file of resource. c.mu is held.
func (c *Cache) drop(resource string) {
	if e := c.entries[resource]; e != nil {
		os.Remove(e.path)
		c.size -= e.size
		delete(c.entries, resource)
	}
}

// Size is the total size of the files the cache holds, in bytes.
func (c *Cache) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

func hashFile(path string) (etag string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	size, err = io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return `"` + hex.EncodeToString(h.Sum(nil)[:16]) + `"`, size, nil
}
