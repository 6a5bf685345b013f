package gpkg_test

import (
	"database/sql"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"

	"planmap/layers"
	"planmap/layers/layerstest"
)

// After features are added, the catalog grows the layer's extent by
// theirs (not reading it again from the R-tree); after any other change
// it reads it again. Either way it is the exact extent a scan of every
// geometry gives.
func TestExtentFollowsEdits(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	db, err := sql.Open("sqlite", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check := func(what string) orb.Bound {
		t.Helper()
		cat, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		col, _ := cat.Collection("parcels")
		var b orb.Bound
		if err := db.QueryRow(`SELECT min(ST_MinX(geom)), min(ST_MinY(geom)), max(ST_MaxX(geom)), max(ST_MaxY(geom)) FROM parcels`).Scan(&b.Min[0], &b.Min[1], &b.Max[0], &b.Max[1]); err != nil {
			t.Fatal(err)
		}
		if col.Extent != b {
			t.Errorf("%s: the catalog's extent is %v, a scan gives %v", what, col.Extent, b)
		}
		return b
	}
	start := check("imported")
	shifted := func(dx, dy float64) layers.Feature {
		f := edited(t, s, "parcels", 7, "新")
		f.Geometry = project.Geometry(orb.Clone(f.Geometry), func(p orb.Point) orb.Point { return orb.Point{p[0] + dx, p[1] + dy} })
		return f
	}
	inside, err := s.Create(ctx, "parcels", shifted(0, 0), layers.Edit{})
	if err != nil {
		t.Fatal(err)
	}
	if b := check("a feature added inside"); b != start {
		t.Errorf("a feature added inside moved the extent from %v to %v", start, b)
	}
	east, err := s.Create(ctx, "parcels", shifted(0.3, 0.0123456789), layers.Edit{})
	if err != nil {
		t.Fatal(err)
	}
	grown := check("a feature added to the east")
	if grown.Max[0] <= start.Max[0] {
		t.Errorf("a feature added east of the extent left it at %v", grown)
	}
	// Several added in one transaction, by SQL: one change each.
	if _, err := db.Exec(`INSERT INTO parcels (geom, name_zh, status) SELECT geom, 'copy', status FROM parcels WHERE fid IN (?, ?)`, inside.ID, east.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the SQL inserts in the catalog", func() bool {
		cat, _ := s.Catalog(ctx)
		col, _ := cat.Collection("parcels")
		var n int
		db.QueryRow(`SELECT count(*) FROM parcels`).Scan(&n)
		return col.Count == n
	})
	check("two features added by SQL")
	// A delete shrinks it back: read again, not grown.
	if err := s.Delete(ctx, "parcels", east.ID, "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM parcels WHERE name_zh = 'copy' AND fid > ?`, east.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the SQL delete in the catalog", func() bool {
		cat, _ := s.Catalog(ctx)
		col, _ := cat.Collection("parcels")
		return col.Extent == start
	})
	check("the eastern features deleted")
	// An update that moves a feature out, then one back in.
	if _, err := s.Replace(ctx, "parcels", inside.ID, shifted(-0.2, 0), "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	check("a feature moved west")
	if _, err := s.Replace(ctx, "parcels", inside.ID, shifted(0, 0), "", layers.Edit{}); err != nil {
		t.Fatal(err)
	}
	if b := check("the feature moved back"); b != start {
		t.Errorf("after the feature moved back the extent is %v, want %v", b, start)
	}
	// Another program's INSERT OR REPLACE of the features at the eastern
	// edge, each moved onto the westernmost one: SQLite deletes the row it
	// replaces without its delete trigger, so the log holds inserts alone.
	if _, err := db.Exec(`INSERT OR REPLACE INTO parcels (fid, geom, name_zh, status)
		SELECT e.fid, w.geom, 'replaced', e.status FROM parcels e,
			(SELECT geom FROM parcels ORDER BY ST_MaxX(geom) LIMIT 1) w
		WHERE ST_MaxX(e.geom) = (SELECT max(ST_MaxX(geom)) FROM parcels)`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the SQL replace in the catalog", func() bool {
		cat, _ := s.Catalog(ctx)
		col, _ := cat.Collection("parcels")
		return col.Extent != start
	})
	if b := check("the eastern feature replaced by SQL"); b.Max[0] >= start.Max[0] {
		t.Errorf("after the eastern feature was moved in, the extent is %v, reaching as far as %v", b, start)
	}
	// Counted as replaced, not added.
	cat, err := s.Catalog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	col, _ := cat.Collection("parcels")
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM parcels`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if col.Count != n {
		t.Errorf("after features were replaced by SQL the catalog counts %d, the table holds %d", col.Count, n)
	}
}
