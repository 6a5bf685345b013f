-- The R-tree trigger update1 of each feature table now leaves a feature's
-- box alone when an update sets geom to the bytes it had: an import or an
-- edit of properties alone. The triggers are rewritten by the Go step of
-- this migration (store.go, migrationSteps), which SQL alone cannot do per
-- table; this file has nothing else to do.
SELECT 1;
