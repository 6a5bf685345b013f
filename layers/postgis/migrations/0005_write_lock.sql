-- Every statement that writes a feature table takes the writers' lock
-- (0001) before it locks any row: the trigger that writes the change log
-- and history runs after the statement's rows are written, and taking the
-- lock only there, a program's transaction holding it from one statement
-- would wait in the next for a row an edit of planmap had locked, while
-- the edit waited for the lock: a deadlock. Taken first by everybody, as
-- planmap's edits take it (edit.go), the lock comes before the rows.
CREATE FUNCTION planmap_write_lock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(7231450016);
  RETURN NULL;
END $$;

DO $$
DECLARE l text;
BEGIN
  FOR l IN SELECT id FROM planmap_layers LOOP
    EXECUTE format('CREATE TRIGGER planmap_write_lock BEFORE INSERT OR UPDATE OR DELETE ON %I FOR EACH STATEMENT EXECUTE FUNCTION planmap_write_lock()', l);
  END LOOP;
END $$;
