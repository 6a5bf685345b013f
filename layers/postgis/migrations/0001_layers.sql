-- The layers' declarations, one row per layer: the same columns as the
-- GeoPackage store's planmap_layers, the JSON kept as the text it was
-- written as. Each layer's features are in a table of its own, named by
-- its id (import.go creates it): fid, geom geometry(<type>, 4326) with a
-- GiST index, and a typed column per field.
CREATE TABLE planmap_layers (
  id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]*$'),
  title_zh text NOT NULL,
  title_en text NOT NULL,
  description_zh text NOT NULL DEFAULT '',
  description_en text NOT NULL DEFAULT '',
  geometry_type text NOT NULL,
  sort_order integer NOT NULL DEFAULT 0,
  schema text NOT NULL, -- JSON array of fields, as declared in the layer file
  style text NOT NULL,  -- JSON object
  rules text NOT NULL DEFAULT '[]'
);

-- The change log, as the GeoPackage store's planmap_changes: one row per
-- feature inserted, updated or deleted, written by a trigger on each
-- feature table (planmap_log_change) whoever the writer is; one row with op
-- 'layer' and fid 0 for a layer created, redeclared or written whole.
CREATE TABLE planmap_changes (
  seq bigserial PRIMARY KEY,
  layer text NOT NULL,
  fid bigint NOT NULL,
  op text NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'layer')),
  at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
);
CREATE INDEX planmap_changes_layer ON planmap_changes (layer, seq);

-- Readers take every change after the last seq they saw, so seqs must
-- become visible in their order. A sequence alone does not promise that:
-- two transactions may take 5 and 6 and commit 6 first, and a reader that
-- saw 6 would never look at 5. So every transaction that writes the log
-- takes one lock first, held until it commits, and only then its seq:
-- writers of features take turns (as in SQLite), readers never wait.
CREATE FUNCTION planmap_changes_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7231450016);
  NEW.seq := nextval(pg_get_serial_sequence('planmap_changes', 'seq'));
  RETURN NEW;
END $$;
CREATE TRIGGER planmap_changes_seq BEFORE INSERT ON planmap_changes
  FOR EACH ROW EXECUTE FUNCTION planmap_changes_seq();

-- Feature ids that were deleted: they stay retired (an Item of one answers
-- 410 Gone), and an import never gives them out again.
CREATE TABLE planmap_retired (
  layer text NOT NULL,
  fid bigint NOT NULL,
  PRIMARY KEY (layer, fid)
);

-- The trigger function of every feature table: its name is the layer id
-- (TG_TABLE_NAME). A bulk write by planmap (a layer written whole) sets
-- planmap.bulk for its transaction and logs one 'layer' row instead.
CREATE FUNCTION planmap_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.fid <> NEW.fid) THEN
    INSERT INTO planmap_retired (layer, fid) VALUES (TG_TABLE_NAME, OLD.fid) ON CONFLICT DO NOTHING;
  END IF;
  IF coalesce(current_setting('planmap.bulk', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, NEW.fid, 'insert');
  ELSIF TG_OP = 'UPDATE' AND OLD.fid <> NEW.fid THEN
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, OLD.fid, 'delete');
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, NEW.fid, 'insert');
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, NEW.fid, 'update');
  ELSE
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, OLD.fid, 'delete');
  END IF;
  RETURN NULL;
END $$;
