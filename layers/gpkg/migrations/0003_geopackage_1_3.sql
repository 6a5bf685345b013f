-- GeoPackage 1.3 instead of 1.4: GDAL 3.6, which QGIS 3.22 uses, warns on
-- every open of a 1.4 file that it "may only be partially supported", and
-- 1.3 has all this file needs. The R-tree triggers of each feature table
-- are rewritten to the 1.3 set by the Go step of this migration
-- (store.go, migrationSteps), which SQL alone cannot do per table.
PRAGMA user_version = 10300; -- GeoPackage 1.3.0

-- Our own tables are no longer registered as an extension: GDAL and QGIS
-- warn of any extension they do not implement ("must not be updated"),
-- whatever its scope. Tables outside gpkg_contents are simply not data to
-- a GeoPackage reader, which is what planmap_layers and planmap_migrations
-- are to them.
DELETE FROM gpkg_extensions WHERE extension_name = 'planmap_layers';

-- Each layer's style as QGIS reads it from a GeoPackage: its own
-- layer_styles convention, registered as an attributes table as QGIS does
-- when it saves a style there. planmap writes the rows (qml.go).
CREATE TABLE layer_styles (
  id INTEGER PRIMARY KEY NOT NULL,
  f_table_catalog TEXT(256),
  f_table_schema TEXT(256),
  f_table_name TEXT(256),
  f_geometry_column TEXT(256),
  styleName TEXT(30),
  styleQML TEXT,
  styleSLD TEXT,
  useAsDefault BOOLEAN,
  description TEXT,
  owner TEXT(30),
  ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS styles of the layers, written by planmap');
