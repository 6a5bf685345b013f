-- Layer metadata lives in the same file, so one GeoPackage is the whole
-- truth. It is registered as the extension planmap_layers, the way the
-- GeoPackage spec lets an application keep its own tables (§2.3).
CREATE TABLE planmap_layers (
  id TEXT NOT NULL PRIMARY KEY,
  title_zh TEXT NOT NULL,
  title_en TEXT NOT NULL,
  description_zh TEXT NOT NULL DEFAULT '',
  description_en TEXT NOT NULL DEFAULT '',
  geometry_type TEXT NOT NULL,
  sort_order INTEGER NOT NULL DEFAULT 0,
  schema TEXT NOT NULL,  -- JSON array of fields, as declared in the layer file
  style TEXT NOT NULL,   -- JSON object, as declared in the layer file
  CONSTRAINT fk_pl_contents FOREIGN KEY (id) REFERENCES gpkg_contents(table_name)
);

INSERT INTO gpkg_extensions (table_name, column_name, extension_name, definition, scope) VALUES
('planmap_layers', NULL, 'planmap_layers', 'planmap layer metadata: bilingual titles, attribute schema, style and drawing order of each feature table (see the planmap README)', 'write-only'),
('planmap_migrations', NULL, 'planmap_layers', 'planmap schema migrations applied to this file', 'write-only');
