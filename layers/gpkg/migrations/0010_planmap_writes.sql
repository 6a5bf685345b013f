-- Planmap's writes: the change numbers (first, last] each write by a
-- planmap process made, recorded in the write's transaction before it
-- commits (history.go, clearContext). A process following the file checks
-- the changes no planmap process made, which are direct edits (direct.go):
-- with this table it skips an import of thousands of features another
-- planmap process made in one range, where it looked up each feature's
-- history. Changes planmap made before this migration are not here: the
-- history's context still tells them.
CREATE TABLE planmap_writes (
  last INTEGER PRIMARY KEY,
  first INTEGER NOT NULL CHECK (first < last)
);
