// Package cache keeps encoded features, and the answers to the queries
// that selected them, in front of any store of layers, within a byte
// budget: the same views asked again, as map users do, cost no SQL.
//
// A Cache answers everything web.Store asks; cmd/planmap wraps its store
// with one:
//
//	web.NewRouter(cache.New(store, 128<<20), opt, log)
//
// Features are held per (layer, fid), least recently used out first.
// Items asks the store for the ids of a page (Store.Select, itself cached
// per layer, filter and page), takes the features it holds and loads only
// the missing ones, in one call (Store.Load). Shapes (for vector tiles)
// selects the same way, makes the shapes of the features it holds, and
// reads the others as shapes (Store.LoadShapes) without holding them.
//
// The cache follows the store's change log: on each request it compares
// the store's Catalog().Seq with the last one it applied, and when it
// moved reads the changes since and drops exactly the changed features,
// and the cached query answers of the layers they are in; a change of a
// layer as a whole (layers.OpLayer) drops the layer. Nothing is ever
// rebuilt, and no reader waits: while changes are being applied, other
// readers go to the store. A feature read before a change and offered to
// the cache after it is applied is not kept, so the cache never serves a
// feature older than the catalog the store shows.
package cache
