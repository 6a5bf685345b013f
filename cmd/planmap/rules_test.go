package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestCheckRules(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "haimen.gpkg")
	if _, stderr, err := planmap(t, "import", "--db", db, "../../seeds"); err != nil {
		t.Fatalf("import of the seeds: %v\n%s", err, stderr)
	}

	t.Run("SeedsKeepTheirRules", func(t *testing.T) {
		out, stderr, err := planmap(t, "check", "--rules", "--db", db, "../../seeds")
		if err != nil {
			t.Fatalf("check --rules of the seeded database with the seeds' rules = %v\n%s%s", err, out, stderr)
		}
		if want := regexp.MustCompile(`^` + regexp.QuoteMeta(db) + `: [1-9][0-9]* rules of 11 layers, none broken\n$`); !want.MatchString(out) {
			t.Errorf("check --rules = %q, want it to count the seeds' rules of 11 layers", out)
		}
	})

	t.Run("StoredRules", func(t *testing.T) {
		// The store keeps the rules the seeds declare.
		out, stderr, err := planmap(t, "check", "--rules", "--db", db)
		if err != nil {
			t.Fatalf("check --rules of the seeded database = %v\n%s%s", err, out, stderr)
		}
		if want := regexp.MustCompile(`: [1-9][0-9]* rules of 11 layers, none broken\n$`); !want.MatchString(out) {
			t.Errorf("check --rules = %q, want the stored rules of 11 layers", out)
		}
	})

	t.Run("ErrBroken", func(t *testing.T) {
		// A rule every industrial site breaks: the district would not
		// overlap any.
		decl := ruledBoundary(t, dir)
		out, _, err := planmap(t, "check", "--rules", "--db", db, decl)
		if err == nil || !strings.Contains(err.Error(), "rules broken") {
			t.Errorf("check --rules with a rule broken = %v, want an error", err)
		}
		for _, want := range []string{
			"boundary 1 (海门港新区（包场镇） / Haimen Port New Area (Baochang Town)) overlaps industry 1 (中天绿色精品钢（中天岛） / ",
			" m², more than the 1 m² rule notOverlapping of layer boundary allows\n",
			"ha, less than the 1e+06 ha rule minAreaHa of layer boundary asks\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("check --rules printed\n%s\nwant it to say %q", out, want)
			}
		}
		if n, industry := strings.Count(out, "overlaps industry"), strings.Count(readSeed(t, "industry"), `"type": "Feature"`); n != industry {
			t.Errorf("check --rules reports %d industrial sites overlapping the district, want all %d", n, industry)
		}
	})

	t.Run("ErrImportBreaksRule", func(t *testing.T) {
		// The same rules, imported: refused whole, naming the file, the
		// feature and the rule, as an edit through the API is.
		decl := ruledBoundary(t, dir)
		out, stderr, err := planmap(t, "import", "--db", db, decl)
		if err == nil {
			t.Fatalf("import of a boundary that breaks its own rules succeeded:\n%s", out)
		}
		for _, want := range []string{
			decl + ": feature 1: boundary 1 (海门港新区（包场镇） / Haimen Port New Area (Baochang Town)) overlaps industry 1 ",
			"rule notOverlapping of layer boundary",
			"rule minAreaHa of layer boundary",
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("import printed\n%s\nwant it to say %q", stderr, want)
			}
		}
		// Nothing of it was stored: the stored rules still hold.
		if out, stderr, err := planmap(t, "check", "--rules", "--db", db); err != nil {
			t.Errorf("check --rules after the refused import = %v\n%s%s", err, out, stderr)
		}
	})

	t.Run("UnknownLayer", func(t *testing.T) {
		text, _ := os.ReadFile("../../seeds/parks.geojson")
		bad := regexp.MustCompile(`(?m)^  "rules": \[`).ReplaceAll(text, []byte(`  "rules": [{"within": "harbour"},`))
		decl := filepath.Join(dir, "parks.geojson")
		os.WriteFile(decl, bad, 0o644)
		_, stderr, err := planmap(t, "check", "--rules", "--db", db, decl)
		if err != nil || !strings.Contains(stderr, `warning: layer parks: rule 0 {"within":"harbour"}: layer harbour does not exist`) {
			t.Errorf("check --rules with a rule naming no layer = %v\n%s, want a warning", err, stderr)
		}
	})

	if _, _, err := planmap(t, "check", "--rules", "--db", filepath.Join(dir, "none.gpkg")); err == nil {
		t.Errorf("check --rules of a missing database succeeded")
	}
}

func readSeed(t *testing.T, layer string) string {
	t.Helper()
	b, err := os.ReadFile("../../seeds/" + layer + ".geojson")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ruledBoundary writes into dir the seed boundary with rules every
// industrial site breaks (the district would not overlap any, and would
// be a million hectares), and returns its path.
func ruledBoundary(t *testing.T, dir string) string {
	t.Helper()
	text, err := os.ReadFile("../../seeds/boundary.geojson")
	if err != nil {
		t.Fatal(err)
	}
	style := regexp.MustCompile(`(?m)^  "style": .*,\n`)
	ruled := style.ReplaceAll(text, []byte(`$0  "rules": [{"notOverlapping": ["industry"], "toleranceM2": 1}, {"minAreaHa": 1000000}],`+"\n"))
	if bytes.Equal(ruled, text) {
		t.Fatal("no style member in boundary.geojson")
	}
	decl := filepath.Join(dir, "boundary.geojson")
	if err := os.WriteFile(decl, ruled, 0o644); err != nil {
		t.Fatal(err)
	}
	return decl
}
