-- Every transaction that writes the change log, whoever makes it (planmap,
-- QGIS, psql), announces it once on channel planmap_changes as it
-- commits: "<its last change number> <WAL position>", so that other
-- planmap processes take the change in at once (replica.go). The trigger
-- is deferred to the commit, and all but its first call in a transaction
-- return at once: a transaction of a thousand changes sends one notice,
-- not a thousand. The writers' lock (0001) is held by then, so the
-- highest number in the log is this transaction's. The WAL position is
-- the last one a transaction can see, before its commit record: a replica
-- that has replayed it may still miss the commit, so planmap decides
-- which replica may serve by a position read after the commit instead.
-- PostgreSQL sends the notices of a transaction only when it commits, and
-- none of one rolled back.
CREATE FUNCTION planmap_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF coalesce(current_setting('planmap.notified', true), '') = 'on' THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('planmap.notified', 'on', true);
  PERFORM pg_notify('planmap_changes',
    (SELECT max(seq) FROM planmap_changes)::text || ' ' || pg_current_wal_insert_lsn()::text);
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER planmap_notify AFTER INSERT ON planmap_changes
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION planmap_notify();
