-- The change log: one row for each feature inserted, updated or deleted,
-- written by triggers on each feature table (changes.go) so that every
-- writer is recorded, planmap or not: QGIS and GDAL editing the file, a
-- plain SQL shell. Readers learn from it what changed since the last
-- change they saw (seq); SQLite itself tells only that the file changed.
-- A layer created, redeclared, replaced whole or dropped is one row with
-- op 'layer' and fid 0: its features were written without a row each.
-- AUTOINCREMENT: a seq is never used twice, even after the newest rows
-- are deleted, so a reader never takes a new change for one it has seen.
CREATE TABLE planmap_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  layer TEXT NOT NULL,
  fid INTEGER NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'layer')),
  at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
-- A layer's latest change is its version.
CREATE INDEX planmap_changes_layer ON planmap_changes (layer, seq);
-- The triggers of the layers already here, and a row for each, are added
-- by the Go step of this migration (store.go, migrationSteps).
