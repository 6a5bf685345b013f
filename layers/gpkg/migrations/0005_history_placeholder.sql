-- PLACEHOLDER, to be deleted when the history branch's migration 0005
-- lands: migrations must be numbered without gaps, and 0006 (tokens) was
-- written before 0005 (history) was merged. It does nothing.
SELECT 1;
