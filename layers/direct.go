package layers

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/paulmach/orb"
)

// Direct edits (QGIS, GDAL, a SQL shell writing the store's file or
// database) cannot be refused: a trigger that called planmap's checks
// would make every other writer fail. They are checked when the store's
// refresh step takes them in from the change log instead, as an edit
// through planmap is checked before it is written (schema and geometry by
// Layer.CheckFeature, then CheckRules with the geometry the feature had
// before, which the history kept; a delete as the API's delete is
// checked), and a feature that fails is reported (OnProblem) and flagged
// (Problem) until a later change of it passes. Changes planmap made (any
// planmap process's edits, imports and copies, which each store tells
// apart in its own way: DirectSnapshot.Foreign) were checked before they
// were written and are not checked again, and clear a flag. The flags are kept in the database
// (planmap_problems), so that they outlive a restart: read when the store
// opens (Load), written after each batch of changes is taken in (Save).
//
// DirectChecks is that rule, the same for every store; what it reads, as
// of one snapshot of the database, is the store's DirectSnapshot.

// DirectChecks checks the features other programs wrote and keeps the
// flags of those that failed. A store embeds one; its zero value checks
// and flags, reporting to nobody. It is safe for concurrent use, but
// Check and Recheck must run one at a time (in the store's refresh step).
type DirectChecks struct {
	mu    sync.Mutex
	flags map[featureKey]string
	fn    func(layer string, fid int64, err error)
	// unsaved are the flags set or cleared since the last Save, by
	// feature.
	unsaved map[featureKey]Flag
}

// Flag is a feature's state after the checks of a direct edit, as a
// store keeps it in planmap_problems.
type Flag struct {
	Layer string
	FID   int64
	// Problem is why the feature fails the checks; "" once it passes
	// again (Save then removes its row).
	Problem string
	// Seq is the change (planmap_changes) that was checked.
	Seq int64
}

// DirectSnapshot is what checking changes reads, as of the snapshot of
// the store's database in which the changes are taken in.
type DirectSnapshot interface {
	// Foreign returns which of the changes numbered lo to hi (both
	// included) of a feature (fid > 0) another program made: planmap's
	// edits and imports mark theirs, each store in its own way (the
	// GeoPackage store records its writes' ranges, the PostGIS store
	// marks each change).
	Foreign(ctx context.Context, lo, hi int64) (map[int64]bool, error)
	// Layers returns every layer's declaration. It is called at most
	// once per snapshot, and only when a change is another program's.
	Layers(ctx context.Context) ([]*Layer, error)
	// Feature returns feature fid of l as stored, nil if there is none;
	// an error if it cannot be read.
	Feature(ctx context.Context, l *Layer, fid int64) (*Feature, error)
	// Ended returns the geometry feature fid of l had before its last n
	// versions ended (n of the changes taken in updated or deleted it),
	// from the states the history keeps: nil for none, one geometry, or,
	// for more than one, a collection of each, so that the rules look
	// near every place it had.
	Ended(ctx context.Context, l *Layer, fid int64, n int) (orb.Geometry, error)
	// AsksRules reports whether the store asks the planning rules.
	AsksRules() bool
	// Rules checks feature f of l (f.Geometry nil: deleted), which had
	// geometry was, against the planning rules, as the store's edits
	// ask them, reading the snapshot.
	Rules(ctx context.Context, l *Layer, f Feature, was orb.Geometry) error
}

type featureKey struct {
	layer string
	fid   int64
}

// OnProblem sets where d reports a direct edit whose feature fails the
// checks (err), and, with a nil err, one that passes them again. Call it
// before serving.
func (d *DirectChecks) OnProblem(fn func(layer string, fid int64, err error)) {
	d.mu.Lock()
	d.fn = fn
	d.mu.Unlock()
}

// Problem returns why feature fid of layer failed the checks after a
// direct edit, or "" if it did not (or has not been checked).
func (d *DirectChecks) Problem(layer string, fid int64) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flags[featureKey{layer, fid}]
}

// Check checks the features of the changes cs (oldest first, as the
// change log has them) that another program made, as they are in snap,
// and flags or clears them.
func (d *DirectChecks) Check(ctx context.Context, snap DirectSnapshot, cs []Change) error {
	if len(cs) == 0 {
		return nil
	}
	// Asked of the batch, not of each change: an import by another
	// planmap process changes thousands of features, checked as it
	// imported them.
	foreign, err := snap.Foreign(ctx, cs[0].Seq, cs[len(cs)-1].Seq)
	if err != nil {
		return err
	}
	// How many versions of each feature the batch ended (its updates
	// and deletes): the history kept their states.
	ended := map[featureKey]int{}
	for _, c := range cs {
		if c.Op == OpUpdate || c.Op == OpDelete {
			ended[featureKey{c.Layer, c.FID}]++
		}
	}
	dc := &directCheck{snap: snap}
	seen := map[featureKey]bool{}
	// Newest first: a feature changed twice is checked once, as it is.
	for i := len(cs) - 1; i >= 0; i-- {
		c := cs[i]
		k := featureKey{c.Layer, c.FID}
		if c.Op == OpLayer && !seen[k] {
			// The layer written whole (an import, a drop, its
			// triggers put back): its flagged features as they are now.
			seen[k] = true
			if err := d.recheckLayer(ctx, dc, c.Layer, c.Seq); err != nil {
				return err
			}
		}
		if c.FID <= 0 || seen[k] {
			continue
		}
		seen[k] = true
		// Planmap's own writes were checked before they were written.
		if !foreign[c.Seq] {
			d.set(k, c.Seq, nil)
			continue
		}
		if err := dc.load(ctx); err != nil {
			return err
		}
		l := dc.byID[c.Layer]
		if l == nil {
			// The layer is gone, and its features with it.
			d.set(k, c.Seq, nil)
			continue
		}
		var was orb.Geometry
		if dc.rules(l) {
			if was, err = snap.Ended(ctx, l, c.FID, ended[k]); err != nil {
				return err
			}
		}
		if err := d.flagStored(ctx, dc, l, k, c.Seq, was); err != nil {
			return err
		}
	}
	return nil
}

// Recheck checks again, as they are in snap, the flagged features that
// changed since they were flagged without the store taking the change
// in: while no planmap followed the database. The store finds them (each
// with the last change since, of it or of its layer as a whole) when it
// builds its catalog afresh, after which only later changes are checked
// as they come, so a feature put right meanwhile would otherwise stay
// flagged. Whoever made the change, the feature is checked as it is now
// (its geometry before is not known): one that passes is cleared, one
// that is gone too.
func (d *DirectChecks) Recheck(ctx context.Context, snap DirectSnapshot, changed []Flag) error {
	if len(changed) == 0 {
		return nil
	}
	dc := &directCheck{snap: snap}
	if err := dc.load(ctx); err != nil {
		return err
	}
	for _, c := range changed {
		k := featureKey{c.Layer, c.FID}
		l := dc.byID[c.Layer]
		if l == nil {
			d.set(k, c.Seq, nil)
			continue
		}
		if err := d.flagStored(ctx, dc, l, k, c.Seq, nil); err != nil {
			return err
		}
	}
	return nil
}

// directCheck is what the checks of one batch read: the declarations,
// read once and only when a change is another program's (most are
// planmap's own), and which layers a rule is about. Only those are asked
// the rules: a bulk delete by another program in a layer no rule is about
// costs no query per feature.
type directCheck struct {
	snap     DirectSnapshot
	loaded   bool
	byID     map[string]*Layer
	involved map[string]bool
}

func (dc *directCheck) load(ctx context.Context) error {
	if dc.loaded {
		return nil
	}
	all, err := dc.snap.Layers(ctx)
	if err != nil {
		return err
	}
	dc.byID = make(map[string]*Layer, len(all))
	for _, l := range all {
		dc.byID[l.ID] = l
	}
	dc.involved, dc.loaded = RuleLayers(all), true
	return nil
}

// rules reports whether the rules are asked about features of l.
func (dc *directCheck) rules(l *Layer) bool { return dc.involved[l.ID] && dc.snap.AsksRules() }

// checkStored checks feature fid of l as stored, which had geometry was
// before the changes being taken in (nil: none known): an error if it
// cannot be read, fails Layer.CheckFeature or the planning rules; nil if
// it passes. A feature that is gone is checked as a delete is: the rules
// from the other side, a boundary that others must lie within.
func (dc *directCheck) checkStored(ctx context.Context, l *Layer, fid int64, was orb.Geometry) (gone bool, err error) {
	rules := dc.rules(l)
	f, err := dc.snap.Feature(ctx, l, fid)
	if err != nil {
		return false, fmt.Errorf("cannot be read: %w", err)
	}
	if f == nil {
		if !rules || was == nil {
			return true, nil
		}
		return true, dc.snap.Rules(ctx, l, Feature{ID: fid}, was)
	}
	checked, err := l.CheckFeature(*f)
	if err != nil {
		return false, err
	}
	checked.ID = fid
	if rules {
		return false, dc.snap.Rules(ctx, l, checked, was)
	}
	return false, nil
}

// flagStored checks feature k as it is stored after change seq (was: its
// geometries before, for the rules) and flags or clears it. A feature
// that is gone carries no flag, since nothing serves it and its id is
// retired: what its delete broke is reported, not kept. Only a failure
// of the snapshot's database (the context ended) is returned: the
// store's refresh fails, and takes the changes in again.
func (d *DirectChecks) flagStored(ctx context.Context, dc *directCheck, l *Layer, k featureKey, seq int64, was orb.Geometry) error {
	gone, err := dc.checkStored(ctx, l, k.fid, was)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if !gone {
		d.set(k, seq, err)
		return nil
	}
	d.set(k, seq, nil)
	if err != nil {
		d.mu.Lock()
		fn := d.fn
		d.mu.Unlock()
		if fn != nil {
			fn(k.layer, k.fid, fmt.Errorf("its deletion: %w", err))
		}
	}
	return nil
}

// recheckLayer checks again the flagged features of layer id, as they
// are after change seq wrote the layer whole.
func (d *DirectChecks) recheckLayer(ctx context.Context, dc *directCheck, id string, seq int64) error {
	var fids []int64
	d.mu.Lock()
	for k := range d.flags {
		if k.layer == id {
			fids = append(fids, k.fid)
		}
	}
	d.mu.Unlock()
	if len(fids) == 0 {
		return nil
	}
	slices.Sort(fids)
	if err := dc.load(ctx); err != nil {
		return err
	}
	l := dc.byID[id]
	for _, fid := range fids {
		k := featureKey{id, fid}
		if l == nil {
			d.set(k, seq, nil)
			continue
		}
		if err := d.flagStored(ctx, dc, l, k, seq, nil); err != nil {
			return err
		}
	}
	return nil
}

// set flags or clears k, as change seq left it, and reports a change of
// its state. Save writes it to the database.
func (d *DirectChecks) set(k featureKey, seq int64, err error) {
	d.mu.Lock()
	old, had := d.flags[k]
	msg := ""
	if err != nil {
		msg = err.Error()
		if d.flags == nil {
			d.flags = map[featureKey]string{}
		}
		d.flags[k] = msg
	} else {
		delete(d.flags, k)
	}
	changed := err != nil && old != msg || err == nil && had
	if changed {
		if d.unsaved == nil {
			d.unsaved = map[featureKey]Flag{}
		}
		d.unsaved[k] = Flag{Layer: k.layer, FID: k.fid, Problem: msg, Seq: seq}
	}
	fn := d.fn
	d.mu.Unlock()
	if fn != nil && changed {
		fn(k.layer, k.fid, err)
	}
}

// Load replaces the flags with those the database keeps.
func (d *DirectChecks) Load(flags []Flag) {
	m := make(map[featureKey]string, len(flags))
	for _, f := range flags {
		m[featureKey{f.Layer, f.FID}] = f.Problem
	}
	d.mu.Lock()
	d.flags = m
	d.mu.Unlock()
}

// Save writes the flags set or cleared since it last ran with write,
// which stores each (deleting the row of one whose Problem is "") in one
// transaction. Should write fail, they are kept to be written next time,
// unless a newer state of the feature came meanwhile.
func (d *DirectChecks) Save(ctx context.Context, write func(ctx context.Context, flags []Flag) error) error {
	d.mu.Lock()
	unsaved := d.unsaved
	d.unsaved = nil
	d.mu.Unlock()
	if len(unsaved) == 0 {
		return nil
	}
	flags := make([]Flag, 0, len(unsaved))
	for _, f := range unsaved {
		flags = append(flags, f)
	}
	if err := write(ctx, flags); err != nil {
		d.mu.Lock()
		for k, f := range unsaved {
			if _, newer := d.unsaved[k]; !newer {
				if d.unsaved == nil {
					d.unsaved = map[featureKey]Flag{}
				}
				d.unsaved[k] = f
			}
		}
		d.mu.Unlock()
		return fmt.Errorf("keep the features flagged after direct edits: %w", err)
	}
	return nil
}
