package cache

import (
	"context"
	"time"

	"planmap/layers"
)

// Past is what the store behind the cache must be for the cache to serve
// the past ("as of"): the GeoPackage and PostGIS stores are.
type Past interface {
	ItemsAsOf(ctx context.Context, id string, t time.Time, f layers.Filter, p layers.Page) ([]*layers.Item, int, error)
	ItemAsOf(ctx context.Context, id string, fid int64, t time.Time) (*layers.Item, error)
	PastCollection(ctx context.Context, id string, t time.Time) (*layers.Collection, error)
}

func (c *Cache) past() (Past, error) {
	p, ok := c.store.(Past)
	if !ok {
		return nil, layers.Errorf(layers.EINVALID, "this store keeps no history: the store behind the cache (%T) cannot answer as of a time", c.store)
	}
	return p, nil
}

// ItemsAsOf is the store's, never held: the cache holds the present only,
// and an answer about the past must not be taken for one about it.
func (c *Cache) ItemsAsOf(ctx context.Context, id string, t time.Time, f layers.Filter, p layers.Page) ([]*layers.Item, int, error) {
	ps, err := c.past()
	if err != nil {
		return nil, 0, err
	}
	return ps.ItemsAsOf(ctx, id, t, f, p)
}

// ItemAsOf is the store's, never held, as ItemsAsOf.
func (c *Cache) ItemAsOf(ctx context.Context, id string, fid int64, t time.Time) (*layers.Item, error) {
	ps, err := c.past()
	if err != nil {
		return nil, err
	}
	return ps.ItemAsOf(ctx, id, fid, t)
}

// PastCollection is the store's, never held, as ItemsAsOf: a layer
// dropped since t, as it was then, or nil when t falls in the life of the
// layer there now.
func (c *Cache) PastCollection(ctx context.Context, id string, t time.Time) (*layers.Collection, error) {
	ps, err := c.past()
	if err != nil {
		return nil, err
	}
	return ps.PastCollection(ctx, id, t)
}

// problemStore is a store that checks direct edits (the GeoPackage and
// PostGIS stores).
type problemStore interface {
	Problem(layer string, fid int64) string
}

// Problem is the store's: why feature fid of layer failed the checks
// after a direct edit, or "".
func (c *Cache) Problem(layer string, fid int64) string {
	if p, ok := c.store.(problemStore); ok {
		return p.Problem(layer, fid)
	}
	return ""
}
