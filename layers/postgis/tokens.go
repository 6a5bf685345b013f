package postgis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"planmap/layers"
)

// The bearer tokens (migrations/0003_tokens.sql), with the GeoPackage
// store's semantics (layers/gpkg/tokens.go): the Store is a web.Tokens,
// and planmap token add, list and revoke work on it.

// AddToken adds a bearer token named name with role and, for an editor,
// the layers it may change (none: every layer), and returns the token:
// the only time it is ever seen, for only its hash is kept. A name held by
// a valid token is refused (ECONFLICT), as are unknown layers and layers
// given to an admin (EINVALID), who may change every layer.
func (s *Store) AddToken(ctx context.Context, name string, role layers.Role, layerIDs []string) (string, error) {
	if err := layers.CheckNewToken(name, role, layerIDs); err != nil {
		return "", err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", err
	}
	defer tx.Rollback(ctx)
	ids := []string{}
	for _, id := range layerIDs {
		if slices.Contains(ids, id) {
			continue
		}
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM planmap_layers WHERE id = $1)`, id).Scan(&ok); err != nil {
			return "", err
		}
		if !ok {
			return "", layers.Errorf(layers.EINVALID, "layer %q does not exist (planmap layers lists them)", id)
		}
		ids = append(ids, id)
	}
	token := layers.NewToken()
	_, err = tx.Exec(ctx, `INSERT INTO planmap_tokens (name, hash, role, layers) VALUES ($1, $2, $3, $4)`,
		name, layers.HashToken(token), string(role), ids)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "planmap_tokens_name" {
		return "", layers.Errorf(layers.ECONFLICT, "there is a token named %q already; revoke it first (planmap token revoke %s) or choose another name", name, name)
	}
	if err != nil {
		return "", fmt.Errorf("add token %s: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", err
	}
	return token, nil
}

// ListTokens lists the valid tokens by name, and with revoked also those
// revoked, oldest first after their valid namesake. Never the tokens, nor
// their hashes.
func (s *Store) ListTokens(ctx context.Context, revoked bool) ([]layers.Token, error) {
	q := `SELECT name, role, layers, created, revoked FROM planmap_tokens`
	if !revoked {
		q += ` WHERE revoked IS NULL`
	}
	q += ` ORDER BY name, revoked IS NOT NULL, id`
	rows, err := s.pool.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []layers.Token
	for rows.Next() {
		t, err := scanToken(rows, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// scanToken reads a row of name, [hash,] role, layers, created and
// revoked (NULL if never): the hash into hash when it is not nil.
func scanToken(rows pgx.Rows, hash *[]byte) (layers.Token, error) {
	var t layers.Token
	var role string
	var ids []string
	var gone *time.Time
	dest := []any{&t.Name}
	if hash != nil {
		dest = append(dest, hash)
	}
	if err := rows.Scan(append(dest, &role, &ids, &t.Created, &gone)...); err != nil {
		return t, err
	}
	t.Role = layers.Role(role)
	if len(ids) > 0 {
		t.Layers = ids
	}
	t.Created = t.Created.UTC()
	if gone != nil {
		t.Revoked = gone.UTC()
	}
	return t, nil
}

// RevokeToken revokes the valid token named name, at once: the next
// request that carries it is refused. An unknown name is an ENOTFOUND
// error.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE planmap_tokens SET revoked = clock_timestamp() WHERE name = $1 AND revoked IS NULL`, name)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return layers.Errorf(layers.ENOTFOUND, "there is no valid token named %q (planmap token list names them)", name)
	}
	return nil
}

// Principal returns who token speaks for, or nil if no valid token is
// token. It reads the database on every call, caching nothing, so that a
// token revoked by another process is refused from the next request on.
func (s *Store) Principal(ctx context.Context, token string) (*layers.Principal, error) {
	if !strings.HasPrefix(token, layers.TokenPrefix) {
		return nil, nil // not one planmap made: no need to look
	}
	var p layers.Principal
	var role string
	var ids []string
	err := s.pool.QueryRow(ctx, `SELECT name, role, layers FROM planmap_tokens WHERE hash = $1 AND revoked IS NULL`,
		layers.HashToken(token)).Scan(&p.Name, &role, &ids)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up a token: %w", err)
	}
	p.Role = layers.Role(role)
	if len(ids) > 0 {
		p.Layers = ids
	}
	return &p, nil
}
