// Package postgis is the PostgreSQL + PostGIS store of planmap: the same
// layers as the GeoPackage store (layers/gpkg), in a database that QGIS,
// GDAL and every GIS tool open as PostGIS. Each layer is a table named by
// its id, with fid, geom geometry(<type>, 4326) under a GiST index, and a
// typed column per field; planmap_layers holds the declarations, and
// planmap_changes the change log, written by a trigger on every feature
// table whoever writes, from which the store (and any cache in front of
// it) learns what changed.
//
// It answers the reads of web.Store and passes the contract of
// layers/storetest: Catalog, Items (bbox and equality filters, paging),
// Item, Search, Changes, WriteGeoJSON (byte for byte the GeoPackage
// store's export of the same data), and Import (COPY into a staging
// table). Geometry crosses the wire as WKB (orb's encoding/wkb).
//
// A bbox query is decided as in the GeoPackage store, by the one rule of
// layers.Filter: the GiST index (geom && box, whose boxes are rounded
// outward, so it never misses a feature) gives the candidates with their
// exact boxes; Filter.Spatial takes those inside a query box as they are,
// and MatchesGeometry decides the others from their geometry. PostGIS's
// ST_Intersects is not asked: its answer at an edge (a box touching a
// vertex, a box in a hole) would be GEOS's, and a store's answer would
// depend on which store it is.
//
// It takes edits as the GeoPackage store does (web.Editor: Create,
// Replace with If-Match, Delete, Versions; edit.go), one transaction per
// edit. The history is written by the trigger of each feature table,
// whoever writes (QGIS, psql), with the editor and note planmap sets for
// its own transactions (history.go). What another program wrote is checked
// when the catalog takes it in, as the GeoPackage store checks it, by the
// one rule of layers.DirectChecks (direct.go): a feature that fails its
// layer's schema or the planning rules is flagged (Problem, the member
// "invalid" of its JSON) until a later change of it passes, across
// restarts (planmap_problems). Every writer of a feature table
// takes one lock, so the change log's seqs become visible in order: a
// later notice (LISTEN/NOTIFY) can carry the last seq of a commit.
//
// The bearer tokens of editors and admins are kept as in the GeoPackage
// store (tokens.go: web.Tokens, and planmap token add|list|revoke), so
// serve takes edits over HTTP on PostGIS too. Admins create, redeclare
// and drop layers over HTTP (web.LayerEditor; admin.go), through the
// import's path, as on the GeoPackage store.
//
// It answers as of a time (web.Past: ItemsAsOf, ItemAsOf, and
// WriteGeoJSONAsOf; asof.go) from the history table and the live tables,
// by the GeoPackage store's rules, which the contract suite holds both to.
//
// GeoPackage and KML downloads are made by copying the layers from one
// snapshot into a GeoPackage store in a temporary folder (export.go).
//
// Several stores, in several processes, share a database as peers: each
// hears of the others' changes, and any program's, by LISTEN/NOTIFY, and
// sends reads to streaming standbys that have caught up (replica.go).
package postgis
