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
// the missing ones, in one call (Store.Load). What comes from the store
// is held only when it is read a second time within a while (admit.go),
// so that a scan that reads each feature once does not push out what is
// asked for again and again. Shapes (for vector tiles)
// selects the same way, makes the shapes of the features it holds, and
// reads the others as shapes (Store.LoadShapes) without holding them.
//
// A query of boxes alone (a map's view, new with every pan) that has no
// held answer takes its ids from the layer's spatial index instead: the
// box of every feature of the layer in an R-tree, made once from the store
// (Store.Bounds) in the background and paid for out of the budget
// (index.go). It needs the store only for the features it does not hold.
// Its answer is held when the same query comes a second time.
//
// The cache follows the store's change log: on each request it compares
// the store's Catalog().Seq with the last one it applied, and when it
// moved reads the changes since and drops exactly the changed features,
// and the cached query answers of the layers they are in; in a layer with
// an index, it loads the changed features, moves them in the index and
// holds them. A change of a layer as a whole (layers.OpLayer) drops the
// layer and its index, made again on the next query of boxes (so does a
// change of more than maxIndexUpdate features of one layer). Nothing
// else is rebuilt, and no reader waits: while changes are being applied,
// other readers go to the store. A feature read before a change and offered to
// the cache after it is applied is not kept, so the cache never serves a
// feature older than the catalog the store shows.
package cache
