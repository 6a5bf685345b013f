package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
	"planmap/web"
)

// TestToken runs planmap token on each store: a GeoPackage file, and a
// PostgreSQL database (--db postgres://…).
func TestToken(t *testing.T) {
	t.Run("GeoPackage", func(t *testing.T) {
		testToken(t, filepath.Join(t.TempDir(), "planmap.gpkg"), func(t *testing.T, db string) web.Tokens {
			s, err := gpkg.OpenReadOnly(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("PostGIS", func(t *testing.T) {
		testToken(t, layerstest.PostgresDB(t), func(t *testing.T, db string) web.Tokens {
			s, err := postgis.Open(context.Background(), db)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
}

func testToken(t *testing.T, db string, open func(*testing.T, string) web.Tokens) {
	if _, stderr, err := planmap(t, "import", "--db", db, "../../seeds"); err != nil {
		t.Fatalf("import seeds: %v\n%s", err, stderr)
	}
	tokenLine := regexp.MustCompile(`^` + layers.TokenPrefix + `[A-Za-z0-9_-]{43}\n$`)

	editor, stderr, err := planmap(t, "token", "add", "--db", db, "--name", "alice", "--role", "editor", "--layers", "parks, terminals")
	if err != nil || !tokenLine.MatchString(editor) {
		t.Fatalf("token add = %q, %v; want the token alone on a line\n%s", editor, err, stderr)
	}
	if !strings.Contains(stderr, "alice") || !strings.Contains(stderr, "only this once") {
		t.Errorf("token add said %q on stderr; want the name and that the token is shown once", stderr)
	}
	admin, _, err := planmap(t, "token", "add", "--db", db, "--name", "ops", "--role", "admin")
	if err != nil || !tokenLine.MatchString(admin) {
		t.Fatalf("token add (admin) = %q, %v", admin, err)
	}
	editor, admin = strings.TrimSpace(editor), strings.TrimSpace(admin)

	store := open(t, db)
	if p, err := store.Principal(context.Background(), editor); err != nil || p == nil || p.Name != "alice" || !p.MayEdit("parks") || p.MayEdit("roads") {
		t.Errorf("Principal(alice's token) = %+v, %v; want alice, editor of parks and terminals", p, err)
	}

	list, _, err := planmap(t, "token", "list", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"NAME", "alice", "editor", "parks,terminals", "ops", "admin", "(all)"} {
		if !strings.Contains(list, want) {
			t.Errorf("token list = %q, want %q in it", list, want)
		}
	}
	if strings.Contains(list, editor) || strings.Contains(list, admin) || strings.Contains(list, "planmap_") {
		t.Errorf("token list shows a token:\n%s", list)
	}

	t.Run("ErrRefused", func(t *testing.T) {
		for _, c := range []struct {
			name  string
			args  []string
			usage bool   // a usage error (exit 2)
			say   string // in the error
		}{
			{"Duplicate", []string{"--name", "alice", "--role", "admin"}, false, "already"},
			{"UnknownLayer", []string{"--name", "bob", "--role", "editor", "--layers", "parks,nosuch"}, false, `"nosuch" does not exist`},
			{"AdminLayers", []string{"--name", "bob", "--role", "admin", "--layers", "parks"}, false, "every layer"},
			{"BadName", []string{"--name", "bob smith", "--role", "editor"}, false, "letters, digits"},
			{"BadRole", []string{"--name", "bob", "--role", "owner"}, true, "owner"},
			{"NoRole", []string{"--name", "bob"}, true, "--role"},
			{"NoName", []string{"--role", "editor"}, true, "--name"},
			{"Argument", []string{"--name", "bob", "--role", "editor", "extra"}, true, "extra"},
		} {
			t.Run(c.name, func(t *testing.T) {
				out, _, err := planmap(t, append([]string{"token", "add", "--db", db}, c.args...)...)
				var u usageError
				if err == nil || errors.As(err, &u) != c.usage || !strings.Contains(err.Error(), c.say) || out != "" {
					t.Errorf("token add %s = %q, %v; want a refusal (usage error: %v) saying %q, and nothing on stdout", strings.Join(c.args, " "), out, err, c.usage, c.say)
				}
			})
		}
		if postgis.IsURL(db) {
			empty := layerstest.PostgresDB(t)
			if _, _, err := planmap(t, "token", "add", "--db", empty, "--name", "bob", "--role", "editor"); err == nil || !strings.Contains(err.Error(), "no planmap layers") {
				t.Errorf("token add on an empty database = %v, want refused", err)
			}
		} else {
			missing := filepath.Join(t.TempDir(), "none.gpkg")
			if _, _, err := planmap(t, "token", "add", "--db", missing, "--name", "bob", "--role", "editor"); err == nil || !strings.Contains(err.Error(), "no database") {
				t.Errorf("token add on a missing database = %v, want refused", err)
			}
			if _, err := os.Stat(missing); err == nil {
				t.Errorf("token add created %s", missing)
			}
		}
		if _, _, err := planmap(t, "token", "revoke", "--db", db, "nobody"); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("token revoke nobody = %v, want not found", err)
		}
		for _, args := range [][]string{{"token"}, {"token", "rename"}, {"token", "revoke", "--db", db}, {"token", "revoke", "--db", db, "a", "b"}} {
			var u usageError
			if _, _, err := planmap(t, args...); !errors.As(err, &u) {
				t.Errorf("planmap %s = %v, want a usage error", strings.Join(args, " "), err)
			}
		}
	})

	if _, stderr, err := planmap(t, "token", "revoke", "--db", db, "alice"); err != nil || !strings.Contains(stderr, "revoked token alice") {
		t.Fatalf("token revoke alice = %v, %q", err, stderr)
	}
	if p, err := store.Principal(context.Background(), editor); p != nil || err != nil {
		t.Errorf("Principal(alice's revoked token) = %+v, %v; want nil", p, err)
	}
	list, _, _ = planmap(t, "token", "list", "--db", db)
	if strings.Contains(list, "alice") || !strings.Contains(list, "ops") {
		t.Errorf("token list after revoking alice:\n%s", list)
	}
	all, _, _ := planmap(t, "token", "list", "--all", "--db", db)
	if !strings.Contains(all, "REVOKED") || !strings.Contains(all, "alice") {
		t.Errorf("token list --all after revoking alice:\n%s", all)
	}
	for _, cmd := range []string{"add", "list", "revoke"} {
		out, _, err := planmap(t, "token", cmd, "-h")
		if err != nil || !strings.HasPrefix(out, "usage: planmap token "+cmd) || !strings.Contains(out, "-db") {
			t.Errorf("planmap token %s -h = %v, %q", cmd, err, out)
		}
	}
}
