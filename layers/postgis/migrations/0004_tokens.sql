-- The bearer tokens of editors and admins (planmap token add|list|revoke),
-- as the GeoPackage store's planmap_tokens: only a token's SHA-256 is kept
-- (layers.HashToken); its name, never the token, is what the history
-- records as the author of a change. A revoked token keeps its row with
-- revoked set, so that the names in the history stay explained; a new
-- token may then take its name.
CREATE TABLE planmap_tokens (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  hash bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
  role text NOT NULL CHECK (role IN ('editor', 'admin')),
  layers text[] NOT NULL DEFAULT '{}', -- empty: every layer
  created timestamptz NOT NULL DEFAULT clock_timestamp(),
  revoked timestamptz
);
-- One valid token per name.
CREATE UNIQUE INDEX planmap_tokens_name ON planmap_tokens (name) WHERE revoked IS NULL;
