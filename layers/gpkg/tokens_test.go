package gpkg_test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

func TestTokens(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(layerstest.Parcels(3))))

	editor, err := s.AddToken(ctx, "张工", layers.RoleEditor, []string{"parcels", "parcels"})
	if err != nil {
		t.Fatalf("AddToken(editor): %v", err)
	}
	admin, err := s.AddToken(ctx, "ops@port", layers.RoleAdmin, nil)
	if err != nil {
		t.Fatalf("AddToken(admin): %v", err)
	}
	if !strings.HasPrefix(editor, layers.TokenPrefix) || len(editor) != len(layers.TokenPrefix)+43 || editor == admin {
		t.Fatalf("tokens %q and %q: want %s and 43 characters of base64url each, different", editor, admin, layers.TokenPrefix)
	}

	t.Run("Principal", func(t *testing.T) {
		for _, c := range []struct {
			token string
			want  *layers.Principal
		}{
			{editor, &layers.Principal{Name: "张工", Role: layers.RoleEditor, Layers: []string{"parcels"}}},
			{admin, &layers.Principal{Name: "ops@port", Role: layers.RoleAdmin}},
			{editor[:len(editor)-1], nil},
			{editor + "x", nil},
			{strings.TrimPrefix(editor, layers.TokenPrefix), nil},
			{"", nil},
		} {
			p, err := s.Principal(ctx, c.token)
			if err != nil {
				t.Fatalf("Principal: %v", err)
			}
			if (p == nil) != (c.want == nil) || p != nil && (p.Name != c.want.Name || p.Role != c.want.Role || !slices.Equal(p.Layers, c.want.Layers)) {
				t.Errorf("Principal(a token) = %+v, want %+v", p, c.want)
			}
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, c := range []struct {
			name, token string
			role        layers.Role
			layers      []string
			code        string
		}{
			{"UnknownLayer", "x", layers.RoleEditor, []string{"parcels", "nosuch"}, layers.EINVALID},
			{"AdminWithLayers", "x", layers.RoleAdmin, []string{"parcels"}, layers.EINVALID},
			{"Role", "x", "owner", nil, layers.EINVALID},
			{"EmptyName", "", layers.RoleEditor, nil, layers.EINVALID},
			{"Space", "a b", layers.RoleEditor, nil, layers.EINVALID},
			{"Markup", "<b>", layers.RoleEditor, nil, layers.EINVALID},
			{"LeadingDash", "-x", layers.RoleEditor, nil, layers.EINVALID},
			{"TooLong", strings.Repeat("a", layers.MaxTokenNameLen+1), layers.RoleEditor, nil, layers.EINVALID},
			{"Duplicate", "张工", layers.RoleAdmin, nil, layers.ECONFLICT},
		} {
			t.Run(c.name, func(t *testing.T) {
				tok, err := s.AddToken(ctx, c.token, c.role, c.layers)
				if layers.ErrorCode(err) != c.code || tok != "" {
					t.Errorf("AddToken(%q, %s, %v) = %q, %v; want a %s error", c.token, c.role, c.layers, tok, err, c.code)
				}
			})
		}
		list, err := s.ListTokens(ctx, true)
		if err != nil || len(list) != 2 {
			t.Errorf("ListTokens after refused adds = %+v, %v; want the 2 tokens", list, err)
		}
	})

	t.Run("RevokeAtOnce", func(t *testing.T) {
		// Another process (planmap token revoke) revokes the token of the
		// server's store: the server's next lookup refuses it.
		other, err := gpkg.Open(ctx, s.Path())
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if p, _ := s.Principal(ctx, editor); p == nil {
			t.Fatal("the editor's token is not valid before it is revoked")
		}
		if err := other.RevokeToken(ctx, "张工"); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
		if p, err := s.Principal(ctx, editor); p != nil || err != nil {
			t.Errorf("Principal of a revoked token = %+v, %v; want nil", p, err)
		}
		if err := other.RevokeToken(ctx, "张工"); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("RevokeToken twice = %v, want ENOTFOUND", err)
		}
		// The name is free again; the old token stays revoked.
		again, err := s.AddToken(ctx, "张工", layers.RoleEditor, nil)
		if err != nil {
			t.Fatalf("AddToken after revoking the name's token: %v", err)
		}
		if p, _ := s.Principal(ctx, editor); p != nil {
			t.Errorf("the revoked token is valid again after its name was reused: %+v", p)
		}
		if p, _ := s.Principal(ctx, again); p == nil || p.Name != "张工" || p.Layers != nil {
			t.Errorf("Principal(new token) = %+v, want 张工 for every layer", p)
		}
		valid, err := s.ListTokens(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.ListTokens(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(valid) != 2 || len(all) != 3 {
			t.Fatalf("ListTokens = %+v (valid), %+v (all); want 2 and 3", valid, all)
		}
		for _, tk := range all {
			if tk.Created.IsZero() {
				t.Errorf("token %+v has no creation time", tk)
			}
		}
		if all[1].Name != "张工" || !all[1].Revoked.IsZero() || all[2].Name != "张工" || all[2].Revoked.IsZero() {
			t.Errorf("ListTokens(all) = %+v; want ops@port, the valid 张工, the revoked 张工", all)
		}
	})

	t.Run("OnlyHashesKept", func(t *testing.T) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		for _, suffix := range []string{"", "-wal"} {
			b, err := os.ReadFile(s.Path() + suffix)
			if err != nil && suffix == "" {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(admin)) || bytes.Contains(b, []byte(strings.TrimPrefix(admin, layers.TokenPrefix))) {
				t.Errorf("the token is in %s%s", filepath.Base(s.Path()), suffix)
			}
		}
	})
}

// Tokens never leave in an export; a backup keeps them.
func TestTokensNotExported(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", string(layerstest.Parcels(3))))
	if _, err := s.AddToken(ctx, "alice", layers.RoleAdmin, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	export, backup := filepath.Join(dir, "export.gpkg"), filepath.Join(dir, "backup.gpkg")
	if err := s.ExportGPKG(ctx, export); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{export: 0, backup: 1} {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'planmap_tokens'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if n != want {
			t.Errorf("%s has %d planmap_tokens tables, want %d", filepath.Base(path), n, want)
		}
	}
}
