// Package gpkg is the GeoPackage store of planmap: the layers in one
// SQLite file that GDAL, QGIS and every GeoPackage reader open as it is.
// It imports and exports layers, answers reads from the file through each
// layer's R-tree with memory bounded by the page asked for, and keeps a
// change log, written by triggers on the feature tables, from which it (and
// any cache in front of it) learns what changed, whoever changed it.
//
// It takes edits (edit.go: Create, Replace, Delete, Versions) and keeps
// every version of every feature in planmap_history, written by triggers
// too (history.go), so that an edit by QGIS or GDAL is kept like one made
// through planmap. Feature ids are AUTOINCREMENT: a deleted feature's id
// is never given out again.
package gpkg
