package gpkg

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"planmap/layers"
)

// AddToken adds a bearer token named name with role and, for an editor,
// the layers it may change (none: every layer), and returns the token:
// the only time it is ever seen, for only its hash is kept. A name held by
// a valid token is refused (ECONFLICT), as are unknown layers and layers
// given to an admin (EINVALID), who may change every layer.
func (s *Store) AddToken(ctx context.Context, name string, role layers.Role, layerIDs []string) (string, error) {
	if err := layers.CheckNewToken(name, role, layerIDs); err != nil {
		return "", err
	}
	w, err := s.writer()
	if err != nil {
		return "", err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var ids []string
	for _, id := range layerIDs {
		if slices.Contains(ids, id) {
			continue
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM planmap_layers WHERE id = ?`, id).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return "", layers.Errorf(layers.EINVALID, "layer %q does not exist (planmap layers lists them)", id)
		}
		ids = append(ids, id)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM planmap_tokens WHERE name = ? AND revoked IS NULL`, name).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return "", layers.Errorf(layers.ECONFLICT, "there is a token named %q already; revoke it first (planmap token revoke %s) or choose another name", name, name)
	}
	layersJSON, err := json.Marshal(append([]string{}, ids...))
	if err != nil {
		return "", err
	}
	token := layers.NewToken()
	if _, err := tx.ExecContext(ctx, `INSERT INTO planmap_tokens (name, hash, role, layers) VALUES (?, ?, ?, ?)`,
		name, layers.HashToken(token), string(role), string(layersJSON)); err != nil {
		return "", fmt.Errorf("add token %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	return token, nil
}

// ListTokens lists the valid tokens by name, and with revoked also those
// revoked, oldest first after their valid namesake. Never the tokens, nor
// their hashes.
func (s *Store) ListTokens(ctx context.Context, revoked bool) ([]layers.Token, error) {
	q := `SELECT name, role, layers, strftime('%Y-%m-%dT%H:%M:%fZ', created), coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', revoked), '')
		FROM planmap_tokens`
	if !revoked {
		q += ` WHERE revoked IS NULL`
	}
	q += ` ORDER BY name, revoked IS NOT NULL, id`
	rows, err := s.read.QueryContext(ctx, q)
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
// revoked (an RFC 3339 text, empty if never): the hash into hash when
// it is not nil.
func scanToken(rows *sql.Rows, hash *[]byte) (layers.Token, error) {
	var t layers.Token
	var role, ids, created, gone string
	dest := []any{&t.Name}
	if hash != nil {
		dest = append(dest, hash)
	}
	if err := rows.Scan(append(dest, &role, &ids, &created, &gone)...); err != nil {
		return t, err
	}
	t.Role = layers.Role(role)
	if err := json.Unmarshal([]byte(ids), &t.Layers); err != nil {
		return t, fmt.Errorf("token %s: layers %q: %w", t.Name, ids, err)
	}
	var err error
	if t.Created, err = time.Parse(time.RFC3339Nano, created); err != nil {
		return t, err
	}
	if gone != "" {
		if t.Revoked, err = time.Parse(time.RFC3339Nano, gone); err != nil {
			return t, err
		}
	}
	return t, nil
}

// RevokeToken revokes the valid token named name, at once: the next
// request that carries it is refused. An unknown name is an ENOTFOUND
// error.
func (s *Store) RevokeToken(ctx context.Context, name string) error {
	w, err := s.writer()
	if err != nil {
		return err
	}
	res, err := w.ExecContext(ctx, `UPDATE planmap_tokens SET revoked = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
		WHERE name = ? AND revoked IS NULL`, name)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return layers.Errorf(layers.ENOTFOUND, "there is no valid token named %q (planmap token list names them)", name)
	}
	return nil
}

// Principal returns who token speaks for, or nil if no valid token is
// token. It reads the database on every call, caching nothing, so that a
// token revoked by another process (planmap token revoke) is refused from
// the next request on.
func (s *Store) Principal(ctx context.Context, token string) (*layers.Principal, error) {
	if !strings.HasPrefix(token, layers.TokenPrefix) {
		return nil, nil // not one planmap made: no need to look
	}
	var p layers.Principal
	var role, ids string
	// Through a kept statement: every write asks.
	err := s.cached().QueryRowContext(ctx, `SELECT name, role, layers FROM planmap_tokens WHERE hash = ? AND revoked IS NULL`,
		layers.HashToken(token)).Scan(&p.Name, &role, &ids)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look up a token: %w", err)
	}
	p.Role = layers.Role(role)
	if err := json.Unmarshal([]byte(ids), &p.Layers); err != nil {
		return nil, fmt.Errorf("token %s: layers %q: %w", p.Name, ids, err)
	}
	if len(p.Layers) == 0 {
		p.Layers = nil
	}
	return &p, nil
}
