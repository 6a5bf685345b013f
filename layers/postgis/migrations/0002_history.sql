-- The features' history, as the GeoPackage store's planmap_history: one
-- row per version of a feature, written by the trigger of its table
-- (planmap_log_change, replaced below), whoever writes, so that an edit
-- made with QGIS or psql is recorded too. A row holds the state its
-- version began with (geom and the other columns as a JSON object, NULL
-- for a delete), who made it and why: planmap sets planmap.author and
-- planmap.note for its transaction (set_config(…, true)); another
-- program leaves them unset, and its versions have no author.
--
-- A layer written whole (an import of a new or replaced layer) writes one
-- row with fid 0 and op 'layer' instead of one per feature: it began the
-- current version of every feature that has no row of its own since. The
-- trigger writes that version's row, with the state it ends, when the
-- feature is next changed (planmap_history_close).
CREATE TABLE planmap_history (
  id bigserial PRIMARY KEY,
  layer text NOT NULL,
  fid bigint NOT NULL,
  op text NOT NULL CHECK (op IN ('insert', 'update', 'delete', 'restore', 'layer')),
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  author text,
  note text,
  geom geometry,
  properties jsonb
);
CREATE INDEX planmap_history_feature ON planmap_history (layer, fid, id);

-- The layers there are began their features' versions before history was
-- kept: one row says so.
INSERT INTO planmap_history (layer, fid, op, note) SELECT id, 0, 'layer', 'history began' FROM planmap_layers;

-- planmap_history_op is the op of a version of feature f of layer lyr
-- that begins after what its history says last: its first is an insert,
-- one after a delete a restore, and otherwise the given op.
CREATE FUNCTION planmap_history_op(lyr text, f bigint, otherwise text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE coalesce((SELECT op FROM planmap_history WHERE layer = lyr AND fid = f ORDER BY id DESC LIMIT 1), '')
    WHEN '' THEN 'insert' WHEN 'delete' THEN 'restore' ELSE otherwise END
$$;

-- planmap_history_close writes the row of the current version of feature f
-- of layer lyr, state g and props, if a bulk write began that version
-- and it has none yet.
CREATE FUNCTION planmap_history_close(lyr text, f bigint, g geometry, props jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  b planmap_history%ROWTYPE;
BEGIN
  SELECT * INTO b FROM planmap_history WHERE layer = lyr AND fid = 0 ORDER BY id DESC LIMIT 1;
  IF NOT FOUND OR EXISTS (SELECT 1 FROM planmap_history WHERE layer = lyr AND fid = f AND id > b.id) THEN
    RETURN;
  END IF;
  INSERT INTO planmap_history (layer, fid, op, at, author, note, geom, properties)
    VALUES (lyr, f, planmap_history_op(lyr, f, 'update'), b.at, b.author, b.note, g, props);
END $$;

-- The trigger function of every feature table, now writing the history
-- beside the change log. It takes the writers' lock (0001) first, so that
-- history rows, like change-log rows, are numbered and timed in the order
-- their transactions commit.
CREATE OR REPLACE FUNCTION planmap_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  who text := nullif(current_setting('planmap.author', true), '');
  why text := nullif(current_setting('planmap.note', true), '');
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.fid <> NEW.fid) THEN
    INSERT INTO planmap_retired (layer, fid) VALUES (TG_TABLE_NAME, OLD.fid) ON CONFLICT DO NOTHING;
  END IF;
  IF coalesce(current_setting('planmap.bulk', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  PERFORM pg_advisory_xact_lock(7231450016);
  IF TG_OP <> 'INSERT' THEN
    PERFORM planmap_history_close(TG_TABLE_NAME, OLD.fid, OLD.geom, to_jsonb(OLD) - 'fid' - 'geom');
  END IF;
  IF TG_OP = 'INSERT' THEN
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, NEW.fid, 'insert');
    INSERT INTO planmap_history (layer, fid, op, author, note, geom, properties)
      VALUES (TG_TABLE_NAME, NEW.fid, planmap_history_op(TG_TABLE_NAME, NEW.fid, 'restore'), who, why, NEW.geom, to_jsonb(NEW) - 'fid' - 'geom');
  ELSIF TG_OP = 'UPDATE' AND OLD.fid <> NEW.fid THEN
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, OLD.fid, 'delete');
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, NEW.fid, 'insert');
    INSERT INTO planmap_history (layer, fid, op, author, note) VALUES (TG_TABLE_NAME, OLD.fid, 'delete', who, why);
    INSERT INTO planmap_history (layer, fid, op, author, note, geom, properties)
      VALUES (TG_TABLE_NAME, NEW.fid, planmap_history_op(TG_TABLE_NAME, NEW.fid, 'restore'), who, why, NEW.geom, to_jsonb(NEW) - 'fid' - 'geom');
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, NEW.fid, 'update');
    INSERT INTO planmap_history (layer, fid, op, author, note, geom, properties)
      VALUES (TG_TABLE_NAME, NEW.fid, 'update', who, why, NEW.geom, to_jsonb(NEW) - 'fid' - 'geom');
  ELSE
    INSERT INTO planmap_changes (layer, fid, op) VALUES (TG_TABLE_NAME, OLD.fid, 'delete');
    INSERT INTO planmap_history (layer, fid, op, author, note) VALUES (TG_TABLE_NAME, OLD.fid, 'delete', who, why);
  END IF;
  RETURN NULL;
END $$;
