// Package layers is planmap's domain: the hand-drawn layers, their
// declared schema and style, the features in them, and the Store that keeps
// them in a single SQLite file that is itself a valid GeoPackage.
//
// A layer file (seeds/<id>.geojson) is an RFC 7946 FeatureCollection whose
// foreign members declare the layer (id, title, description, geometryType,
// schema, style, order). ParseFile reads one, Check validates its features
// against the declaration, Store.Import writes a set of them in one
// transaction, and Store.WriteGeoJSON and Store.ExportGPKG give them back.
package layers
