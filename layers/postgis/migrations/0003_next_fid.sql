-- A new feature's id, when its writer gives none (QGIS, ogr2ogr -append
-- and psql insert without one): the default of every feature table's fid.
-- It goes on from the highest id the layer ever had, its table's and its
-- retired ones', so that no id is given out twice, as the store's Create
-- does (edit.go). Not a sequence: a sequence is not rolled back, and a
-- refused write would use an id up. Under the writers' lock (0001), so
-- that two writers never take the same one; and remembered for the rest
-- of the transaction (planmap.fid_<layer>), for the rows of one INSERT do
-- not see each other.
CREATE FUNCTION planmap_next_fid(lyr text) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  top bigint;
  given bigint := coalesce(nullif(current_setting('planmap.fid_' || lyr, true), '')::bigint, 0);
BEGIN
  PERFORM pg_advisory_xact_lock(7231450016);
  EXECUTE format('SELECT coalesce(max(fid), 0) FROM %I', lyr) INTO top;
  top := greatest(top, given, (SELECT coalesce(max(fid), 0) FROM planmap_retired WHERE layer = lyr)) + 1;
  PERFORM set_config('planmap.fid_' || lyr, top::text, true);
  RETURN top;
END $$;

DO $$
DECLARE l text;
BEGIN
  FOR l IN SELECT id FROM planmap_layers LOOP
    EXECUTE format('ALTER TABLE %I ALTER COLUMN fid SET DEFAULT planmap_next_fid(%L)', l, l);
  END LOOP;
END $$;
