-- A change took two numbers of the sequence, not one: the column's
-- default (bigserial's nextval) is evaluated when the row is formed,
-- before the BEFORE INSERT trigger of 0001 takes the lock and a number of
-- its own. So the log read 2, 4, 6, … where the GeoPackage's reads 1, 2,
-- 3, …, and /changes differed between the stores. The trigger alone gives
-- the number now; the sequence stays owned by the column, so
-- pg_get_serial_sequence still finds it (0001, copy.go).
ALTER TABLE planmap_changes ALTER COLUMN seq DROP DEFAULT;
