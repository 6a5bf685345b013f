-- What planmap found wrong with the features other programs wrote (direct
-- edits by QGIS, ogr2ogr -update, psql, which nothing can refuse:
-- layers.DirectChecks checks them when the catalog takes them in), as the
-- GeoPackage store's planmap_problems: one row per feature that fails its
-- layer's schema, geometry or planning rules, with why, until a later
-- change of it passes. Kept here rather than in memory alone, so that a
-- feature stays flagged across a restart of planmap. seq is the change
-- (planmap_changes) that was checked. Several planmap processes on one
-- database each check the same changes and write the same rows.
-- Internal: it never leaves in an export or a download.
CREATE TABLE planmap_problems (
  layer text NOT NULL,
  fid bigint NOT NULL,
  problem text NOT NULL,
  seq bigint NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (layer, fid)
);
