package postgis_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
)

// psql runs sql through the psql program on database url, as a person
// editing the tables by hand would, and fails the test if it fails.
func psql(t *testing.T, url, sql string) {
	t.Helper()
	bin := layerstest.RequireTool(t, "psql")
	out, err := exec.Command(bin, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql).CombinedOutput()
	if err != nil {
		t.Fatalf("psql -c %q: %v\n%s", sql, err, out)
	}
}

// TestDirectEditsInHistory: writes made with psql, bypassing planmap
// (an UPDATE signed with planmap.author, a DELETE, an INSERT without an
// id, a change of id), are each recorded in the history by the trigger,
// read back by Versions with the state they left, dates included; and
// planmap goes on editing over them with the versions it serves.
func TestDirectEditsInHistory(t *testing.T) {
	t.Parallel()
	layerstest.RequireTool(t, "psql")
	s, url := mustOpen(t)
	file := `{"type": "FeatureCollection", "id": "wells", "title": {"zh": "井", "en": "Wells"},
	  "geometryType": "Point", "schema": [
	    {"name": "name", "type": "string", "description": {"zh": "", "en": ""}},
	    {"name": "depth", "type": "number", "description": {"zh": "", "en": ""}},
	    {"name": "drilled", "type": "date", "description": {"zh": "", "en": ""}},
	    {"name": "checked", "type": "datetime", "description": {"zh": "", "en": ""}}],
	  "style": {"color": "#000000"},
	  "features": [
	    {"type": "Feature", "id": 1, "properties": {"name": "一号", "depth": 12.5, "drilled": "2020-05-01", "checked": "2026-11-30T08:15:00.250Z"}, "geometry": {"type": "Point", "coordinates": [121.1, 32.1]}},
	    {"type": "Feature", "id": 2, "properties": {"name": "二号"}, "geometry": {"type": "Point", "coordinates": [121.2, 32.2]}},
	    {"type": "Feature", "id": 3, "properties": {"name": "三号"}, "geometry": {"type": "Point", "coordinates": [121.3, 32.3]}}]}`
	if _, err := s.Import(ctx, []*layers.File{parse(t, "wells.geojson", []byte(file))}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	imported := mustItem(t, s, "wells", 1)

	psql(t, url, `BEGIN; SELECT set_config('planmap.author', 'qgis-wang', true);
		UPDATE wells SET name = '一号井', depth = 13 WHERE fid = 1; COMMIT;`)
	psql(t, url, `DELETE FROM wells WHERE fid = 2`)
	psql(t, url, `INSERT INTO wells (geom, name) VALUES (ST_SetSRID(ST_MakePoint(121.4, 32.4), 4326), '四号'), (ST_SetSRID(ST_MakePoint(121.5, 32.5), 4326), '五号')`)
	psql(t, url, `UPDATE wells SET fid = 10 WHERE fid = 3`)
	waitFor(t, s, func(cat *layers.Catalog) bool { c, _ := cat.Collection("wells"); return c != nil && c.Count == 4 })

	vs := versions(t, s, "wells", 1)
	if len(vs) != 2 || vs[0].Op != layers.OpUpdate || vs[0].Author != "qgis-wang" || vs[1].Op != layers.OpInsert || vs[1].Note != "planmap import" {
		t.Fatalf("Versions(wells, 1) after an UPDATE by psql = %+v; want the update by qgis-wang, then the import", vs)
	}
	if now := mustItem(t, s, "wells", 1); vs[0].Item == nil || string(vs[0].Item.JSON) != string(now.JSON) || now.Properties()["name"] != "一号井" {
		t.Errorf("the update's version = %v, the feature is %s", vs[0].Item, now.JSON)
	}
	// The state before, dates and all, as it was served.
	if vs[1].Item == nil || string(vs[1].Item.JSON) != string(imported.JSON) {
		t.Errorf("the imported version = %v, want %s", vs[1].Item, imported.JSON)
	}

	if vs := versions(t, s, "wells", 2); len(vs) != 2 || vs[0].Op != layers.OpDelete || vs[0].Author != "" || vs[0].Item != nil {
		t.Errorf("Versions(wells, 2) after a DELETE by psql = %+v; want a delete by nobody first", vs)
	}
	if _, err := s.Item(ctx, "wells", 2); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("Item(wells, 2) after a DELETE by psql: %v, want %s", err, layers.EGONE)
	}
	// Ids without one go on after the highest ever, 3, in one INSERT.
	for fid, name := range map[int64]string{4: "四号", 5: "五号"} {
		if vs := versions(t, s, "wells", fid); len(vs) != 1 || vs[0].Op != layers.OpInsert || vs[0].Item == nil || vs[0].Item.Properties()["name"] != name {
			t.Errorf("Versions(wells, %d) after an INSERT by psql = %+v; want the insert of %s", fid, vs, name)
		}
	}
	if vs := versions(t, s, "wells", 3); len(vs) != 2 || vs[0].Op != layers.OpDelete {
		t.Errorf("Versions(wells, 3) after its id changed = %+v; want a delete first", vs)
	}
	if vs := versions(t, s, "wells", 10); len(vs) != 1 || vs[0].Op != layers.OpInsert || vs[0].Item.Properties()["name"] != "三号" {
		t.Errorf("Versions(wells, 10) after 3 became 10 = %+v; want the insert of 三号", vs)
	}

	// planmap edits on, from the version it serves, and its next id is
	// after all of those.
	cur := mustItem(t, s, "wells", 1)
	f := cur.Feature()
	f.Properties = map[string]any{"name": "一号井", "depth": 14.0}
	if _, err := s.Replace(ctx, "wells", 1, f, imported.Version(), layers.Edit{Author: "li"}); layers.ErrorCode(err) != layers.EPRECONDITION {
		t.Errorf("Replace(wells, 1) from the version before psql's update: %v, want %s", err, layers.EPRECONDITION)
	}
	if _, err := s.Replace(ctx, "wells", 1, f, cur.Version(), layers.Edit{Author: "li"}); err != nil {
		t.Errorf("Replace(wells, 1) from the version served: %v", err)
	}
	it, err := s.Create(ctx, "wells", f, layers.Edit{Author: "li"})
	if err != nil || it.ID != 11 {
		t.Errorf("Create after psql's writes = %v, %v; want id 11", it, err)
	}
}

// TestReplaceInHistory: an import with Replace, which writes the layer
// whole without the trigger's history, ends every feature's version as
// the trigger would (the imported state kept), records the delete of each
// feature the new file lacks, and begins the new versions.
func TestReplaceInHistory(t *testing.T) {
	t.Parallel()
	s, _ := mustOpen(t)
	wells := func(features string) *layers.File {
		return parse(t, "wells.geojson", []byte(`{"type": "FeatureCollection", "id": "wells", "title": {"zh": "井", "en": "Wells"},
		  "geometryType": "Point", "schema": [{"name": "name", "type": "string", "description": {"zh": "", "en": ""}}],
		  "style": {"color": "#000000"}, "features": [`+features+`]}`))
	}
	well := func(fid int, name string) string {
		return fmt.Sprintf(`{"type": "Feature", "id": %d, "properties": {"name": %q}, "geometry": {"type": "Point", "coordinates": [121.%d, 32.1]}}`, fid, name, fid)
	}
	if _, err := s.Import(ctx, []*layers.File{wells(well(1, "一") + "," + well(2, "二") + "," + well(3, "三"))}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	first3 := mustItem(t, s, "wells", 3)
	one := mustItem(t, s, "wells", 1).Feature()
	one.Properties = map[string]any{"name": "一改"}
	byLi, err := s.Replace(ctx, "wells", 1, one, "", layers.Edit{Author: "li"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, []*layers.File{wells(well(1, "一新") + "," + well(3, "三新"))}, layers.ImportOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	ops := func(vs []layers.Version) string {
		var b strings.Builder
		for _, v := range vs {
			fmt.Fprintf(&b, "%s by %q (%s); ", v.Op, v.Author, v.Note)
		}
		return b.String()
	}
	vs := versions(t, s, "wells", 1)
	if got, want := ops(vs), `update by "" (planmap import); update by "li" (); insert by "" (planmap import); `; got != want || vs[1].Item == nil || string(vs[1].Item.JSON) != string(byLi.JSON) {
		t.Errorf("Versions(wells, 1) after a replace = %s; want %s with li's state kept", got, want)
	}
	vs = versions(t, s, "wells", 2)
	if got, want := ops(vs), `delete by "" (planmap import); insert by "" (planmap import); `; got != want || vs[1].Item == nil || vs[1].Item.Properties()["name"] != "二" {
		t.Errorf("Versions(wells, 2), not in the replacing file = %s; want %s with its state kept", got, want)
	}
	vs = versions(t, s, "wells", 3)
	if got, want := ops(vs), `update by "" (planmap import); insert by "" (planmap import); `; got != want || vs[1].Item == nil || string(vs[1].Item.JSON) != string(first3.JSON) || vs[0].Item.Properties()["name"] != "三新" {
		t.Errorf("Versions(wells, 3) after a replace = %s; want %s, the first imported state kept", got, want)
	}
}

// TestConcurrentWriters: two stores on one database and a program
// updating two rows per transaction (as QGIS saves its edits) write the
// same features at once.
// Every edit through a store succeeds (a deadlock with the program is
// broken by PostgreSQL and the edit made again), the new ids are all
// different, and the history has a version for every write that was made.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	s1, url := mustOpen(t)
	s2, err := postgis.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var features []string
	for fid := 1; fid <= 3; fid++ {
		features = append(features, fmt.Sprintf(`{"type": "Feature", "id": %d, "properties": {"name": "井"}, "geometry": {"type": "Point", "coordinates": [121.%d, 32.1]}}`, fid, fid))
	}
	file := parse(t, "wells.geojson", []byte(`{"type": "FeatureCollection", "id": "wells", "title": {"zh": "井", "en": "Wells"},
	  "geometryType": "Point", "schema": [{"name": "name", "type": "string", "description": {"zh": "", "en": ""}}],
	  "style": {"color": "#000000"}, "features": [`+strings.Join(features, ",")+`]}`))
	if _, err := s1.Import(ctx, []*layers.File{file}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}

	const rounds = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := map[int64]bool{}
	direct := 0
	for w, s := range []*postgis.Store{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range rounds {
				fid := int64(3 - i%3) // from the last row, against the scan's order
				f := layers.Feature{Properties: map[string]any{"name": fmt.Sprintf("store %d round %d", w, i)}, Geometry: orb.Point{121.5, 32.1}}
				if _, err := s.Replace(ctx, "wells", fid, f, "", layers.Edit{Author: "li"}); err != nil {
					t.Errorf("store %d: Replace(wells, %d): %v", w, fid, err)
				}
				it, err := s.Create(ctx, "wells", f, layers.Edit{Author: "li"})
				if err != nil {
					t.Errorf("store %d: Create: %v", w, err)
					continue
				}
				mu.Lock()
				if created[it.ID] {
					t.Errorf("store %d: Create gave id %d twice", w, it.ID)
				}
				created[it.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range rounds {
			err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				for _, fid := range []int{1, 3} {
					if _, err := tx.Exec(ctx, `UPDATE wells SET name = name || '.' WHERE fid = $1`, fid); err != nil {
						return err
					}
				}
				return nil
			})
			var pgErr *pgconn.PgError
			switch {
			case err == nil:
				direct++
			case errors.As(err, &pgErr) && pgErr.Code == "40P01":
				// The program was the one PostgreSQL failed: it may.
			default:
				t.Errorf("UPDATE by another program: %v", err)
			}
		}
	}()
	wg.Wait()
	if len(created) != 2*rounds {
		t.Errorf("%d features created, want %d", len(created), 2*rounds)
	}
	// Feature 1: the import, the stores' replaces of it, the program's
	// updates that were made.
	want := 1 + direct
	for i := range rounds {
		if 3-i%3 == 1 {
			want += 2
		}
	}
	if vs := versions(t, s1, "wells", 1); len(vs) != want {
		t.Errorf("Versions(wells, 1) = %d versions, want %d", len(vs), want)
	}
}

func mustItem(t *testing.T, s *postgis.Store, id string, fid int64) *layers.Item {
	t.Helper()
	it, err := s.Item(ctx, id, fid)
	if err != nil {
		t.Fatalf("Item(%s, %d): %v", id, fid, err)
	}
	return it
}

func versions(t *testing.T, s *postgis.Store, id string, fid int64) []layers.Version {
	t.Helper()
	vs, err := s.Versions(ctx, id, fid)
	if err != nil {
		t.Fatalf("Versions(%s, %d): %v", id, fid, err)
	}
	return vs
}

// waitFor waits until the store's catalog, following other writers,
// satisfies ok.
func waitFor(t *testing.T, s *postgis.Store, ok func(*layers.Catalog) bool) {
	t.Helper()
	start := time.Now()
	for {
		cat, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ok(cat) {
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the catalog did not take in the other writer's changes in %v", time.Since(start))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
