package tiles

import (
	"context"
	"slices"
	"strings"
	"sync"

	"planmap/layers"
	"planmap/web/lru"
)

// Store is what the cache needs of a store: what a tile reads, the change
// log, and one feature by id (to learn where a changed feature is now).
// web.Store has it.
type Store interface {
	Source
	Changes(ctx context.Context, after int64, limit int) ([]layers.Change, error)
	Item(ctx context.Context, id string, fid int64) (*layers.Item, error)
}

// DefaultBudget is the cache's byte budget unless told otherwise: a few
// thousand tiles of a map's views.
const DefaultBudget = 32 << 20

const (
	// maxApply: more pending changes than this are not looked at one by
	// one; the tiles of the layers they touch are dropped instead.
	maxApply = 1024
	// changeBatch is how many change-log entries are read at a time.
	changeBatch = 1024
)

// Cache holds tiles made from a store within a byte budget, least
// recently used out first, and drops exactly the tiles an edit touches.
//
// It follows the store's change log: on each Get it compares the
// catalog's Seq with the last one it applied, reads the changes since,
// and for each changed feature drops the tiles that held it (each tile
// remembers the ids it read: Tile.Holds, where the feature was) and the
// tiles whose buffered bounds meet the feature's bounds now (Store.Item:
// where it is). A change of a layer as a whole, or more than maxApply
// pending changes, drops every tile of the layers concerned. A tile made
// from a catalog older than the last change applied is served but not
// kept, so the cache never holds a tile older than what it has applied.
//
// It is safe for concurrent use.
type Cache struct {
	store Store

	mu     sync.Mutex
	held   *lru.Cache[key, *Tile]
	seq    int64 // the last change applied
	synced bool  // seq has been set from a catalog
	// minZooms are the layers' MinZoom as of seq: when one moves (a layer
	// grew or shrank past a tile's worth), its tiles are dropped.
	minZooms map[string]int

	applyMu sync.Mutex

	// building are the tiles being made, by key.
	building map[key]*call

	hits, misses, shared, drops int64
}

type key struct {
	z, x, y int
	layers  string // the layer ids asked for, comma-separated; "" for all
}

// NewCache returns a cache of tiles of store within budget bytes (none
// kept when budget is 0).
func NewCache(store Store, budget int64) *Cache {
	return &Cache{store: store, held: lru.New[key, *Tile](budget), building: map[key]*call{}}
}

// Get returns tile z/x/y of the layers ids (all when nil): the one held,
// or one made now.
func (c *Cache) Get(ctx context.Context, z, x, y int, ids []string) (*Tile, error) {
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
	k := key{z, x, y, strings.Join(ids, ",")}
	c.mu.Lock()
	if t, ok := c.held.Get(k); ok {
		c.hits++
		c.mu.Unlock()
		return t, nil
	}
	// A tile being made for another request is waited for, not made
	// twice: a map opening asks for its tiles all at once, and so may
	// several maps.
	if cl, ok := c.building[k]; ok {
		seq := c.seq
		c.mu.Unlock()
		select {
		case <-cl.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if cl.err == nil && cl.tile.Seq >= seq {
			c.mu.Lock()
			c.shared++
			c.mu.Unlock()
			return cl.tile, nil
		}
		// Its maker failed (or saw an older catalog): make it here.
		c.mu.Lock()
	}
	c.misses++
	cl := &call{done: make(chan struct{})}
	c.building[k] = cl
	c.mu.Unlock()
	cl.tile, cl.err = Build(ctx, c.store, z, x, y, ids)
	if cl.err == nil {
		c.put(k, cl.tile) // before it is no longer being made
	}
	c.mu.Lock()
	if c.building[k] == cl {
		delete(c.building, k)
	}
	c.mu.Unlock()
	close(cl.done)
	return cl.tile, cl.err
}

// call is a tile being made.
type call struct {
	done chan struct{} // closed when tile and err are set
	tile *Tile
	err  error
}

// Stats says how the cache is doing.
type Stats struct {
	Tiles   int   `json:"tiles"`
	Bytes   int64 `json:"bytes"`
	Budget  int64 `json:"budget"`
	Hits    int64 `json:"hits"`
	Misses  int64 `json:"misses"`  // tiles made
	Shared  int64 `json:"shared"`  // tiles another request was making, waited for
	Dropped int64 `json:"dropped"` // by edits
}

// Stats returns the cache's figures.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Tiles: c.held.Len(), Bytes: c.held.Size(), Budget: c.held.Budget(), Hits: c.hits, Misses: c.misses, Shared: c.shared, Dropped: c.drops}
}

func (c *Cache) put(k key, t *Tile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.synced || t.Seq < c.seq {
		return // made before a change the cache has applied
	}
	c.held.Put(k, t, int64(t.Size()))
}

// sync applies the changes of the store's log since the last one
// applied. One caller applies them; the others wait, so that no tile is
// served from the cache that a change has made stale.
func (c *Cache) sync(ctx context.Context) error {
	cat, err := c.store.Catalog(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	current := c.synced && c.seq == cat.Seq
	c.mu.Unlock()
	if current {
		return nil
	}
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	c.mu.Lock()
	seq, synced := c.seq, c.synced
	c.mu.Unlock()
	if !synced {
		c.minZooms = minZooms(cat)
		c.setSeq(cat.Seq)
		return nil
	}
	if seq >= cat.Seq {
		return nil
	}
	var changes []layers.Change
	for after := seq; after < cat.Seq && len(changes) <= maxApply; {
		batch, err := c.store.Changes(ctx, after, changeBatch)
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			break
		}
		changes = append(changes, batch...)
		after = batch[len(batch)-1].Seq
	}
	end := cat.Seq
	if len(changes) > 0 {
		end = max(end, changes[len(changes)-1].Seq)
	}
	// Take the cache's seq past the changes first: a tile made before them
	// and offered while they are applied is then not kept.
	c.setSeq(end)
	zooms := minZooms(cat)
	for id, z := range zooms {
		if old, ok := c.minZooms[id]; ok && old != z {
			c.dropWhere(func(t *Tile) bool { return slices.Contains(t.Layers, id) })
		}
	}
	c.minZooms = zooms
	if len(changes) > maxApply || len(changes) == 0 {
		// Too many to look at one by one, or a log that does not say
		// (cut short): drop the layers concerned, or everything.
		whole := map[string]bool{}
		for _, ch := range changes {
			whole[ch.Layer] = true
		}
		c.dropWhere(func(t *Tile) bool {
			return len(whole) == 0 || slices.ContainsFunc(t.Layers, func(id string) bool { return whole[id] })
		})
		return nil
	}
	for _, ch := range changes {
		if ch.Op == layers.OpLayer {
			c.dropWhere(func(t *Tile) bool { return slices.Contains(t.Layers, ch.Layer) })
			continue
		}
		// Where the feature was: the tiles that read it.
		c.dropWhere(func(t *Tile) bool {
			_, found := slices.BinarySearch(t.Holds[ch.Layer], ch.FID)
			return found
		})
		if ch.Op == layers.OpDelete {
			continue
		}
		// Where it is now.
		it, err := c.store.Item(ctx, ch.Layer, ch.FID)
		if code := layers.ErrorCode(err); code == layers.ENOTFOUND || code == layers.EGONE {
			continue // deleted since
		}
		if err != nil {
			// The seq has moved past this change: a tile of the layer
			// kept now could show the feature where it was.
			c.dropWhere(func(t *Tile) bool { return slices.Contains(t.Layers, ch.Layer) })
			return err
		}
		c.dropWhere(func(t *Tile) bool {
			return slices.Contains(t.Layers, ch.Layer) && Bound(t.Z, t.X, t.Y).Intersects(it.Bound)
		})
	}
	return nil
}

func (c *Cache) setSeq(seq int64) {
	c.mu.Lock()
	c.seq, c.synced = seq, true
	c.mu.Unlock()
}

// dropWhere drops the held tiles for which drop is true.
func (c *Cache) dropWhere(drop func(*Tile) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drops += int64(c.held.DropWhere(drop))
}

func minZooms(cat *layers.Catalog) map[string]int {
	out := make(map[string]int, len(cat.Collections))
	for _, col := range cat.Collections {
		out[col.ID] = MinZoom(col)
	}
	return out
}
