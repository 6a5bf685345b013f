package layers

import (
	"context"
	"fmt"
	"time"
)

// Copy moves a whole database from one store to another (planmap copy):
// every layer with its declaration, its features under their ids, the
// full history of every feature, the highest id each layer ever used (so
// that a retired id is never given out again), the change log's position
// and the bearer tokens (their hashes: a token that works on the source
// works on the copy). The history of a layer dropped since is copied too,
// so that the copy reads it as of a time it existed, as the source does.
//
// What is copied, in what order, and the checks are here; each store
// implements CopySource and CopyTarget over its own tables.

// HistoryRow is one row of a layer's history as the stores keep it: an
// event that began a version of feature FID, or with FID 0 and Op
// OpLayer a bulk write of the whole layer, which began a version of every
// feature that has no row of its own after it.
type HistoryRow struct {
	FID    int64
	Op     Op
	At     time.Time
	Author string
	Note   string
	// State is the version's feature (its geometry and properties); nil
	// for a delete, a bulk write, and a version whose state the store
	// does not keep in its history (the current one, kept as the live
	// feature, in the GeoPackage).
	State *Feature
	// Declaration is what the row of a drop (fid 0, op layer) or of a
	// redeclaration (fid RedeclaredFID) keeps: the layer's declaration
	// until then (DroppedDeclaration); nil for every other row.
	Declaration []byte
	// Life is the declaration the row was written under when that is not
	// the layer's there now (a layer dropped since, an earlier life of the
	// one there now, or a declaration changed since; their fields may
	// differ): State has its fields, and a target keeps them so. It is
	// nil for a row written under the declaration there now.
	Life *Layer
}

// TokenRecord is a bearer token as a store keeps it: its description and
// its SHA-256 (HashToken), never the token.
type TokenRecord struct {
	Token
	Hash []byte
}

// CopySource is a store read whole by Copy. The copy is only as
// consistent as the source is still: copy a database nobody writes to.
type CopySource interface {
	// Layers returns every layer's declaration in drawing order.
	Layers(ctx context.Context) ([]*Layer, error)
	// DroppedLayers returns the ids of the layers that are not there now
	// and whose history can be read as of a time they existed (a drop
	// kept their declaration), in the order they were first written.
	DroppedLayers(ctx context.Context) ([]string, error)
	// Features calls fn with each live feature of layer id, in id order.
	Features(ctx context.Context, id string, fn func(Feature) error) error
	// History calls fn with each row of layer id's history, in the order
	// the events happened, each with the declaration of its life; id may
	// be a dropped layer's.
	History(ctx context.Context, id string, fn func(HistoryRow) error) error
	// LastFID returns the highest feature id layer id ever used.
	LastFID(ctx context.Context, id string) (int64, error)
	// LastChange returns the seq of the change log's last change.
	LastChange(ctx context.Context) (int64, error)
	// TokenRecords returns every token, revoked ones included.
	TokenRecords(ctx context.Context) ([]TokenRecord, error)
}

// CopyTarget is a store Copy writes a whole database into.
type CopyTarget interface {
	// CopyIn calls fn with a writer of one transaction, committed if fn
	// returns nil and rolled back otherwise, so that the copy lands whole
	// or not at all. It refuses (ECONFLICT) a store that holds a layer
	// or a token already.
	CopyIn(ctx context.Context, fn func(CopyWriter) error) error
}

// CopyWriter writes a copy inside CopyTarget.CopyIn's transaction. Its
// writes must not be recorded by the store's history as new edits.
type CopyWriter interface {
	// ChangesAfter makes the change log go on after seq: the next change
	// recorded has a greater one.
	ChangesAfter(ctx context.Context, seq int64) error
	// Layer creates layer l and writes its features (each call of fn's
	// argument is one), with their ids, as an import of a new layer does,
	// but with no history of its own.
	Layer(ctx context.Context, l *Layer, features func(func(Feature) error) error) (int, error)
	// History writes one row of layer id's history, in order, after
	// Layer wrote the layer.
	History(ctx context.Context, id string, h HistoryRow) error
	// DroppedLayer writes the history of a layer not there now (each
	// call of fn's argument is one row, in order), in place of any the
	// target held of id, and returns how many rows it wrote. The ids of
	// its features are never given out again, should a layer of that id
	// be created.
	DroppedLayer(ctx context.Context, id string, rows func(func(HistoryRow) error) error) (int, error)
	// EndLayer completes layer id after its history: ids up to lastFID
	// are never given out again.
	EndLayer(ctx context.Context, id string, lastFID int64) error
	// Token adds a token as it is (name, role, layers, times, hash).
	Token(ctx context.Context, t TokenRecord) error
}

// CopyResult says what Copy copied.
type CopyResult struct {
	Layers, Features, Versions, Tokens int
	// Dropped counts the dropped layers whose history was copied.
	Dropped int
}

// String describes the result in a line.
func (r CopyResult) String() string {
	dropped := ""
	if r.Dropped > 0 {
		dropped = fmt.Sprintf(", the history of %d dropped %s", r.Dropped, plural(r.Dropped, "layer", "layers"))
	}
	return fmt.Sprintf("%d %s, %d %s, %d history %s%s, %d %s copied",
		r.Layers, plural(r.Layers, "layer", "layers"), r.Features, plural(r.Features, "feature", "features"),
		r.Versions, plural(r.Versions, "row", "rows"), dropped, r.Tokens, plural(r.Tokens, "token", "tokens"))
}

// Copy copies the whole database of src into dst, which must hold no
// layer and no token, in one transaction of dst. Features and history
// rows are streamed, one at a time, from src to dst.
func Copy(ctx context.Context, src CopySource, dst CopyTarget) (CopyResult, error) {
	var res CopyResult
	ls, err := src.Layers(ctx)
	if err != nil {
		return res, fmt.Errorf("read layers: %w", err)
	}
	for _, l := range ls {
		if !ValidIdent(l.ID) {
			return res, Errorf(EINVALID, "layer id %q of the source is not valid", l.ID)
		}
	}
	dropped, err := src.DroppedLayers(ctx)
	if err != nil {
		return res, fmt.Errorf("read dropped layers: %w", err)
	}
	for _, id := range dropped {
		if !ValidIdent(id) {
			return res, Errorf(EINVALID, "dropped layer id %q of the source is not valid", id)
		}
	}
	tokens, err := src.TokenRecords(ctx)
	if err != nil {
		return res, fmt.Errorf("read tokens: %w", err)
	}
	seq, err := src.LastChange(ctx)
	if err != nil {
		return res, fmt.Errorf("read change log: %w", err)
	}
	err = dst.CopyIn(ctx, func(w CopyWriter) error {
		res = CopyResult{}
		if err := w.ChangesAfter(ctx, seq); err != nil {
			return fmt.Errorf("change log: %w", err)
		}
		for _, l := range ls {
			n, err := w.Layer(ctx, l, func(fn func(Feature) error) error {
				return src.Features(ctx, l.ID, fn)
			})
			if err != nil {
				return fmt.Errorf("layer %s: %w", l.ID, err)
			}
			res.Layers++
			res.Features += n
			err = src.History(ctx, l.ID, func(h HistoryRow) error {
				res.Versions++
				return w.History(ctx, l.ID, h)
			})
			if err != nil {
				return fmt.Errorf("history of %s: %w", l.ID, err)
			}
			last, err := src.LastFID(ctx, l.ID)
			if err != nil {
				return fmt.Errorf("ids of %s: %w", l.ID, err)
			}
			if err := w.EndLayer(ctx, l.ID, last); err != nil {
				return fmt.Errorf("layer %s: %w", l.ID, err)
			}
		}
		for _, id := range dropped {
			n, err := w.DroppedLayer(ctx, id, func(fn func(HistoryRow) error) error {
				return src.History(ctx, id, fn)
			})
			if err != nil {
				return fmt.Errorf("history of dropped layer %s: %w", id, err)
			}
			res.Versions += n
			res.Dropped++
		}
		for _, t := range tokens {
			if len(t.Hash) != 32 {
				return Errorf(EINVALID, "token %q of the source has no SHA-256 hash", t.Name)
			}
			if err := w.Token(ctx, t); err != nil {
				return fmt.Errorf("token %s: %w", t.Name, err)
			}
			res.Tokens++
		}
		return nil
	})
	if err != nil {
		return CopyResult{}, err
	}
	return res, nil
}
