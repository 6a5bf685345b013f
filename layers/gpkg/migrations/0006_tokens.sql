-- The bearer tokens of editors and admins (planmap token add|list|revoke).
-- Only a token's SHA-256 is kept (layers.HashToken): the token is 256
-- random bits, shown once when it is added. Its name, never the token, is
-- what the history records as the author of a change. A revoked token keeps
-- its row with revoked set, so that the names in the history stay
-- explained; a new token may then take its name. This table never leaves
-- in an export or a download (export.go allows only what may).
CREATE TABLE planmap_tokens (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
  role TEXT NOT NULL CHECK (role IN ('editor', 'admin')),
  -- A JSON array of layer ids; empty: every layer.
  layers TEXT NOT NULL DEFAULT '[]',
  created DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  revoked DATETIME
);
-- One valid token per name.
CREATE UNIQUE INDEX planmap_tokens_name ON planmap_tokens (name) WHERE revoked IS NULL;
