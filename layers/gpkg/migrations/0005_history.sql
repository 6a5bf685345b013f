-- History: nothing is ever lost. Every insert, update and delete of a
-- feature, by planmap or by any other writer of the file (QGIS, GDAL, a
-- SQL shell), is recorded in the same transaction by triggers on the
-- feature tables (history.go), in plain SQL only: a trigger that called a
-- function only planmap registers would make every other writer fail.
--
-- One row per event that begins a version of a feature: its layer, fid,
-- operation, time, author and note. The version's state (geometry blob
-- and properties) is the live row while the version is current, and is
-- copied into geom and properties when the version ends (the next event of
-- the feature); a delete's version has no state. A row with fid 0 and op
-- 'layer' is a bulk write of a whole layer (a new layer imported, a layer
-- replaced, this migration): it begins a version of every feature the
-- layer has then, without a row each. The first later event of such a
-- feature first writes that version's row (with the time, author and note
-- of the bulk write, and the old state).
-- AUTOINCREMENT: an id is never used twice, so id order is event order.
CREATE TABLE planmap_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  layer TEXT NOT NULL,
  fid INTEGER NOT NULL,
  op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'restore', 'layer')),
  at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  author TEXT,
  note TEXT,
  geom BLOB,
  properties TEXT
);
CREATE INDEX planmap_history_feature ON planmap_history (layer, fid, id);

-- Who writes now: planmap fills the one row in the transaction of a write,
-- before it writes, and empties the table before it commits; the
-- triggers read it. No row: a direct edit, by another program.
CREATE TABLE planmap_context (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  author TEXT,
  note TEXT
);

-- The Go step of this migration (store.go, migrationSteps) rebuilds each
-- feature table with AUTOINCREMENT ids, adds its history triggers and
-- records the features there now as one 'layer' row per layer.
