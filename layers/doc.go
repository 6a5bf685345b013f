// Package layers is planmap's domain: the hand-drawn layers, their
// declared schema and style, the features in them, the checks they pass,
// the layer-file format and the vocabulary every store answers reads in
// (Catalog, Filter, Page, Item, Change). Stores live beside it: layers/gpkg
// keeps the layers in one SQLite file that is itself a GeoPackage.
//
// A layer file (seeds/<id>.geojson) is an RFC 7946 FeatureCollection whose
// foreign members declare the layer (id, title, description, geometryType,
// schema, style, order, rules). CheckRules checks a written feature against
// the planning rules of its layer and of the layers that name it. ParseFile reads one, Check validates its features
// against the declaration, Prepare checks a set of them against what a
// store holds, and a store's Import writes them in one transaction.
// OpenFile reads a layer file from disk but leaves its features there;
// Stream checks them one at a time with Prepare's rules and hands them to
// a store's Writer, so that a file of any size imports in bounded memory.
package layers
