package cache

import (
	"context"

	"planmap/layers"
)

// Editor is what the store behind the cache must be for the cache to
// take writes (web.Editor): the GeoPackage store is one.
type Editor interface {
	Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error)
	Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error)
	Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error
	Versions(ctx context.Context, id string, fid int64) ([]layers.Version, error)
}

// Editable reports whether the store behind the cache takes writes.
func (c *Cache) Editable() bool {
	_, ok := c.store.(Editor)
	return ok
}

func (c *Cache) editor() (Editor, error) {
	e, ok := c.store.(Editor)
	if !ok {
		return nil, layers.Errorf(layers.ECONFLICT, "this store is read-only: the store behind the cache (%T) takes no writes", c.store)
	}
	return e, nil
}

// Create is the store's; the cache has taken the write in when it
// returns, so that the writer's next read sees it.
func (c *Cache) Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error) {
	ed, err := c.editor()
	if err != nil {
		return nil, err
	}
	it, err := ed.Create(ctx, id, f, e)
	if err != nil {
		return nil, err
	}
	c.catchUp(ctx)
	return it, nil
}

// Replace is the store's, taken in as Create's is.
func (c *Cache) Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error) {
	ed, err := c.editor()
	if err != nil {
		return nil, err
	}
	it, err := ed.Replace(ctx, id, fid, f, ifMatch, e)
	if err != nil {
		return nil, err
	}
	c.catchUp(ctx)
	return it, nil
}

// Delete is the store's, taken in as Create's is.
func (c *Cache) Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error {
	ed, err := c.editor()
	if err != nil {
		return err
	}
	if err := ed.Delete(ctx, id, fid, ifMatch, e); err != nil {
		return err
	}
	c.catchUp(ctx)
	return nil
}

// Versions is the store's: histories are read rarely, and not held.
func (c *Cache) Versions(ctx context.Context, id string, fid int64) ([]layers.Version, error) {
	ed, err := c.editor()
	if err != nil {
		return nil, err
	}
	return ed.Versions(ctx, id, fid)
}

// catchUp brings the cache up to the store's catalog, which includes a
// write just returned, waiting for an applier that is at work: the
// written feature's old copy and the layer's held query answers are
// dropped before the writer reads again. Should reading the change log
// fail, everything is dropped instead.
func (c *Cache) catchUp(ctx context.Context) {
	c.applyMu.Lock()
	defer c.applyMu.Unlock()
	cat, err := c.store.Catalog(ctx)
	cur := c.epoch.Load()
	if err == nil && cur != nil && cur.seq == cat.Seq {
		return
	}
	if err != nil {
		// Nothing held, and no epoch: the next read starts afresh.
		c.reset(&epoch{seq: -1})
		c.epoch.Store(nil)
		return
	}
	if _, err := c.advance(ctx, cur, cat.Seq); err != nil {
		c.applyErrors.Add(1)
		c.reset(&epoch{seq: cat.Seq})
	}
}

// LayerEditor is what the store behind the cache must be for the cache
// to take changes of the layers themselves (web.LayerEditor).
type LayerEditor interface {
	DeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error
	RedeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error
	DropLayer(ctx context.Context, id string, e layers.Edit) error
}

// editLayers runs edit on the store as a LayerEditor, then takes its
// change in: the cache holds the layer as changed when it returns.
func (c *Cache) editLayers(ctx context.Context, edit func(LayerEditor) error) error {
	ed, ok := c.store.(LayerEditor)
	if !ok {
		return layers.Errorf(layers.ECONFLICT, "the store behind the cache (%T) does not change layers", c.store)
	}
	if err := edit(ed); err != nil {
		return err
	}
	c.catchUp(ctx)
	return nil
}

// DeclareLayer is the store's; the cache has taken the new layer in when
// it returns.
func (c *Cache) DeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error {
	return c.editLayers(ctx, func(ed LayerEditor) error { return ed.DeclareLayer(ctx, l, e) })
}

// RedeclareLayer is the store's, taken in as DeclareLayer's is.
func (c *Cache) RedeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error {
	return c.editLayers(ctx, func(ed LayerEditor) error { return ed.RedeclareLayer(ctx, l, e) })
}

// DropLayer is the store's, taken in as DeclareLayer's is: the layer's
// held features and answers are dropped before it returns.
func (c *Cache) DropLayer(ctx context.Context, id string, e layers.Edit) error {
	return c.editLayers(ctx, func(ed LayerEditor) error { return ed.DropLayer(ctx, id, e) })
}
