-- Which changes planmap made, told apart from direct edits by a mark of
-- the change itself rather than by the history's author and note: a
-- program that writes the tables directly is asked to sign its
-- transaction with planmap.author (README), and a signed direct edit
-- must still be checked (layers.DirectChecks). planmap's own
-- transactions set planmap.checked (setContext), which every change row
-- they write records here. The default is read in the writing
-- transaction, by the trigger's insert; rows from before this column are
-- marked unchecked, and none of them is checked again (only the changes
-- after the catalog's are).
ALTER TABLE planmap_changes
  ADD COLUMN checked boolean NOT NULL
  DEFAULT (coalesce(current_setting('planmap.checked', true), '') = 'on');
