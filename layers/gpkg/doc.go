// Package gpkg is the GeoPackage store of planmap: the layers in one
// SQLite file that GDAL, QGIS and every GeoPackage reader open as it is.
// It imports and exports layers, answers reads from the file through each
// layer's R-tree with memory bounded by the page asked for, and keeps a
// change log, written by triggers on the feature tables, from which it (and
// any cache in front of it) learns what changed, whoever changed it.
package gpkg
