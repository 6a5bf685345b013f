-- What planmap found wrong with the features other programs wrote (direct
-- edits by QGIS, GDAL, a SQL shell, which nothing can refuse: direct.go
-- checks them when it takes them in): one row per feature that fails its
-- layer's schema, geometry or planning rules, with why, until a later
-- change of it passes. Kept here rather than in memory alone, so that a
-- feature stays flagged across a restart of planmap. A direct delete that
-- breaks a rule (a boundary that others must lie within) is flagged under
-- the deleted feature's id. seq is the change (planmap_changes) that was
-- checked. Internal: it never leaves in an export or a download.
CREATE TABLE planmap_problems (
  layer TEXT NOT NULL,
  fid INTEGER NOT NULL,
  problem TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (layer, fid)
);
