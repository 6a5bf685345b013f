// Package tiles makes Mapbox Vector Tiles (MVT 2.1) of the layers of a
// store, on the WebMercatorQuad tile matrix set (OGC API – Tiles), and
// keeps the tiles it made in a cache with a byte budget that follows the
// store's change log.
//
// A tile reads its features through the one bbox query every store
// answers, with the tile's bounds plus a buffer, as shapes (Source.Shapes,
// web.Store's): the selection of Items, but each feature only its
// geometry and the Fields a tile keeps, with no GeoJSON and no measures
// made. Then, per feature, it projects it to the tile's 4096 × 4096
// grid, clips it to the buffered tile, rounds it to the grid, simplifies
// it by half a pixel of a 512-pixel tile (Douglas–Peucker), and checks
// that every ring is still a ring (closed, three distinct positions, a
// non-zero area, no crossing edges). A ring the simplification broke is
// taken unsimplified; one that rounding broke is dropped, and a polygon
// without its outer ring with it. Below MinDetailZoom, polygons smaller
// than one pixel and lines shorter than one are dropped.
//
// Thinning: a tile never reads more than MaxFeatures features of a layer.
// Which layers a tile may hold is decided before reading, from the
// catalog: a layer whose features, spread evenly over its extent, would
// put more than MaxFeatures into one tile of a zoom is left out of the
// tiles of that zoom (its MinZoom says from which zoom on it is drawn; the
// tileset and TileJSON documents list it). A tile whose layer still holds
// more than MaxFeatures (a cluster denser than the layer's mean) keeps the
// first MaxFeatures in id order and is marked thinned (Tile.Thinned). So a
// tile costs at most MaxFeatures reads per layer, and its size stays
// bounded.
package tiles
