-- A layer's planning rules (the rules member of its layer file), as JSON:
-- part of its declaration, kept and exported with it.
ALTER TABLE planmap_layers ADD COLUMN rules TEXT NOT NULL DEFAULT '[]';
