package postgis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/layers/postgis"
)

// copyStore is what the round trip reads of each store.
type copyStore interface {
	layers.CopySource
	layers.CopyTarget
	WriteGeoJSON(ctx context.Context, w *bytes.Buffer, id string) error
	Versions(ctx context.Context, id string, fid int64) ([]layers.Version, error)
	Item(ctx context.Context, id string, fid int64) (*layers.Item, error)
	Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error)
	Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error)
	Principal(ctx context.Context, token string) (*layers.Principal, error)
}

type gpkgCopy struct{ *gpkg.Store }

func (s gpkgCopy) WriteGeoJSON(ctx context.Context, w *bytes.Buffer, id string) error {
	return s.Store.WriteGeoJSON(ctx, w, id, nil)
}

type pgCopy struct{ *postgis.Store }

func (s pgCopy) WriteGeoJSON(ctx context.Context, w *bytes.Buffer, id string) error {
	return s.Store.WriteGeoJSON(ctx, w, id, nil)
}

// editStore is what copyEdits edits through: either store.
type editStore interface {
	Features(ctx context.Context, id string, fn func(layers.Feature) error) error
	Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error)
	Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error)
	Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error
	AddToken(ctx context.Context, name string, role layers.Role, layerIDs []string) (string, error)
	RevokeToken(ctx context.Context, name string) error
}

// copyEdits makes, through the store's API, a feature created and
// updated twice, one deleted for good, and one deleted and restored, in
// the parcels layer (a field of every type); and adds a token. It
// returns the ids of the features touched, the deleted one's, the token,
// and a time after each edit.
func copyEdits(t *testing.T, s editStore) (fids []int64, deleted int64, token string, times []time.Time) {
	t.Helper()
	const id = "parcels"
	var live []layers.Feature
	if err := s.Features(ctx, id, func(f layers.Feature) error { live = append(live, f); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(live) < 3 {
		t.Fatalf("parcels has %d features; the test wants 3", len(live))
	}
	tick := func() {
		time.Sleep(3 * time.Millisecond)
		times = append(times, time.Now())
		time.Sleep(3 * time.Millisecond)
	}
	tick()
	f := live[0]
	f.ID = 0
	f.Properties = maps.Clone(f.Properties)
	it, err := s.Create(ctx, id, f, layers.Edit{Author: "alice", Note: "new parcel"})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	created := it.ID
	tick()
	for i, note := range []string{"first update", ""} {
		f.Properties = maps.Clone(f.Properties)
		f.Properties["name_en"] = fmt.Sprintf("Parcel %d", i)
		f.Properties["berths"] = int64(10 + i)
		f.Properties["public"] = i == 0
		if _, err := s.Replace(ctx, id, created, f, "", layers.Edit{Author: "bob", Note: note}); err != nil {
			t.Fatalf("Replace %d: %v", created, err)
		}
		tick()
	}
	// The created feature, the highest id ever used, and another go
	// for good.
	for _, fid := range []int64{live[1].ID, created} {
		if err := s.Delete(ctx, id, fid, "", layers.Edit{Author: "carol", Note: "gone for good"}); err != nil {
			t.Fatalf("Delete %d: %v", fid, err)
		}
		tick()
	}
	deleted = created
	back := live[2]
	if err := s.Delete(ctx, id, back.ID, "", layers.Edit{Author: "carol"}); err != nil {
		t.Fatalf("Delete %d: %v", back.ID, err)
	}
	tick()
	if _, err := s.Replace(ctx, id, back.ID, back, "", layers.Edit{Author: "dave", Note: "restored"}); err != nil {
		t.Fatalf("restore %d: %v", back.ID, err)
	}
	tick()
	token, err = s.AddToken(ctx, "editor1", layers.RoleEditor, []string{id})
	if err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	if err := s.RevokeToken(ctx, "editor1"); err != nil {
		t.Fatal(err)
	}
	token, err = s.AddToken(ctx, "editor1", layers.RoleEditor, []string{id})
	if err != nil {
		t.Fatalf("AddToken: %v", err)
	}
	return []int64{created, live[1].ID, back.ID, live[0].ID}, deleted, token, times
}

// TestCopyRoundTrip copies a GeoPackage with edits into PostGIS and that
// into a new GeoPackage: every copy serves what the source serves.
func TestCopyRoundTrip(t *testing.T) {
	t.Parallel()
	src := layerstest.MustOpen(t)
	if _, err := src.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatalf("Import: %v", err)
	}
	fids, deleted, token, times := copyEdits(t, src)
	pgs, _ := mustOpen(t)
	back := layerstest.MustOpen(t)

	res, err := layers.Copy(ctx, src, pgs)
	if err != nil {
		t.Fatalf("Copy into PostGIS: %v", err)
	}
	if res.Layers == 0 || res.Features == 0 || res.Versions == 0 || res.Tokens != 2 {
		t.Errorf("Copy into PostGIS = %v", res)
	}
	if a, b := lastChange(t, src), lastChange(t, pgs); b <= a {
		t.Errorf("the PostGIS copy's change log ends at %d, the source's at %d: want it to go on after", b, a)
	}
	if _, err := layers.Copy(ctx, pgs, back); err != nil {
		t.Fatalf("Copy into a GeoPackage: %v", err)
	}
	if a, b := lastChange(t, pgs), lastChange(t, back); b <= a {
		t.Errorf("the GeoPackage copy's change log ends at %d, the source's at %d: want it to go on after", b, a)
	}

	want := gpkgCopy{src}
	for _, c := range []struct {
		name string
		s    copyStore
	}{{"postgis", pgCopy{pgs}}, {"gpkg", gpkgCopy{back}}} {
		t.Run(c.name, func(t *testing.T) {
			sameDatabase(t, want, c.s, fids, false)
			// The deleted id stays retired; a new feature gets an id
			// above every id the source ever used.
			for _, fid := range []int64{deleted, fids[1]} {
				if _, err := c.s.Item(ctx, "parcels", fid); layers.ErrorCode(err) != layers.EGONE {
					t.Errorf("Item(parcels, %d) after the copy: %v, want EGONE", fid, err)
				}
			}
			// An edit on the copy ends the restored feature's current
			// version, which keeps the state it had.
			wv, err := src.Versions(ctx, "parcels", fids[2])
			if err != nil {
				t.Fatal(err)
			}
			restored, err := c.s.Item(ctx, "parcels", fids[2])
			if err != nil {
				t.Fatal(err)
			}
			rf := restored.Feature()
			rf.Properties = maps.Clone(rf.Properties)
			rf.Properties["name_en"] = "Edited on the copy"
			if _, err := c.s.Replace(ctx, "parcels", fids[2], rf, "", layers.Edit{Author: "erin"}); err != nil {
				t.Fatalf("Replace on the copy: %v", err)
			}
			gv, err := c.s.Versions(ctx, "parcels", fids[2])
			if err != nil {
				t.Fatal(err)
			}
			if len(gv) != len(wv)+1 || gv[1].Item == nil || !bytes.Equal(gv[1].Item.JSON, wv[0].Item.JSON) {
				t.Errorf("after an edit on the copy, the version before it is %+v; want the source's current one, %s", gv[1:], wv[0].Item.JSON)
			}
			last, err := src.LastFID(ctx, "parcels")
			if err != nil {
				t.Fatal(err)
			}
			it, err := c.s.Item(ctx, "parcels", fids[3])
			if err != nil {
				t.Fatal(err)
			}
			f := it.Feature()
			f.ID = 0
			nw, err := c.s.Create(ctx, "parcels", f, layers.Edit{Author: "erin"})
			if err != nil {
				t.Fatalf("Create after the copy: %v", err)
			}
			if nw.ID <= last {
				t.Errorf("Create after the copy gave id %d; the source had used up to %d", nw.ID, last)
			}
			p, err := c.s.Principal(ctx, token)
			if err != nil || p == nil || p.Name != "editor1" || p.Role != layers.RoleEditor || !slices.Equal(p.Layers, []string{"parcels"}) {
				t.Errorf("Principal(token added on the source) = %+v, %v; want editor1, editor of parcels", p, err)
			}
		})
	}
	// As of each moment of the edits, the GeoPackage copied back serves
	// the parcels as the source did.
	for i, at := range times {
		var a, b bytes.Buffer
		if err := src.WriteGeoJSONAsOf(ctx, &a, "parcels", at, nil); err != nil {
			t.Fatal(err)
		}
		if err := back.WriteGeoJSONAsOf(ctx, &b, "parcels", at, nil); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("parcels as of moment %d (%s) differs after the round trip:\n%s\nwant\n%s", i, at, b.Bytes(), a.Bytes())
		}
	}
}

func lastChange(t *testing.T, s layers.CopySource) int64 {
	t.Helper()
	n, err := s.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// sameDatabase checks that got serves what want serves: the layers'
// declarations and GeoJSON exports, and the versions of every live
// feature and of fids; with msOnly, the versions' times to the
// millisecond (a GeoPackage copy of PostGIS's history).
func sameDatabase(t *testing.T, want, got copyStore, fids []int64, msOnly bool) {
	t.Helper()
	wl, err := want.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gl, err := got.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(wl) != len(gl) {
		t.Fatalf("%d layers after the copy, want %d", len(gl), len(wl))
	}
	for i, l := range wl {
		if !layers.SameDeclaration(l, gl[i]) || l.Order != gl[i].Order {
			t.Errorf("layer %d after the copy is %s, not the same declaration as %s", i, gl[i].ID, l.ID)
		}
		var a, b bytes.Buffer
		if err := want.WriteGeoJSON(ctx, &a, l.ID); err != nil {
			t.Fatal(err)
		}
		if err := got.WriteGeoJSON(ctx, &b, l.ID); err != nil {
			t.Fatalf("WriteGeoJSON(%s) after the copy: %v", l.ID, err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("GeoJSON of %s after the copy differs:\n%.2000s\nwant\n%.2000s", l.ID, b.Bytes(), a.Bytes())
		}
		ids := slices.Clone(fids)
		if l.ID != "parcels" {
			ids = nil
		}
		if err := want.Features(ctx, l.ID, func(f layers.Feature) error { ids = append(ids, f.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		for _, fid := range ids {
			wv, err := want.Versions(ctx, l.ID, fid)
			if err != nil {
				t.Fatalf("Versions(%s, %d) of the source: %v", l.ID, fid, err)
			}
			gv, err := got.Versions(ctx, l.ID, fid)
			if err != nil {
				t.Fatalf("Versions(%s, %d) after the copy: %v", l.ID, fid, err)
			}
			if d := diffVersions(wv, gv, msOnly); d != "" {
				t.Errorf("Versions(%s, %d) after the copy: %s", l.ID, fid, d)
			}
		}
	}
}

func diffVersions(want, got []layers.Version, msOnly bool) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d versions, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if msOnly {
			w.From, w.To = w.From.Truncate(time.Millisecond), w.To.Truncate(time.Millisecond)
		}
		if g.Number != w.Number || g.Op != w.Op || !g.From.Equal(w.From) || !g.To.Equal(w.To) || g.Author != w.Author || g.Note != w.Note {
			return fmt.Sprintf("version %d is %d %s %s–%s %q %q, want %d %s %s–%s %q %q", i,
				g.Number, g.Op, g.From, g.To, g.Author, g.Note, w.Number, w.Op, w.From, w.To, w.Author, w.Note)
		}
		if (g.Item == nil) != (w.Item == nil) {
			return fmt.Sprintf("version %d has a feature: %v, want %v", w.Number, g.Item != nil, w.Item != nil)
		}
		if g.Item != nil && !bytes.Equal(g.Item.JSON, w.Item.JSON) {
			return fmt.Sprintf("version %d is\n%s\nwant\n%s", w.Number, g.Item.JSON, w.Item.JSON)
		}
	}
	return ""
}

// failingSource fails to read the history of its second layer.
type failingSource struct {
	layers.CopySource
	n int
}

func (s *failingSource) History(ctx context.Context, id string, fn func(layers.HistoryRow) error) error {
	if s.n++; s.n == 2 {
		return errors.New("disk on fire")
	}
	return s.CopySource.History(ctx, id, fn)
}

// TestCopyFails: a copy that fails half-way writes nothing, and a target
// that holds layers is refused and left as it was.
func TestCopyFails(t *testing.T) {
	t.Parallel()
	src := layerstest.MustOpen(t)
	if _, err := src.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatalf("Import: %v", err)
	}
	pgs, _ := mustOpen(t)
	if _, err := layers.Copy(ctx, &failingSource{CopySource: src}, pgs); err == nil {
		t.Fatal("Copy from a source that fails half-way: no error")
	}
	if ls, err := pgs.Layers(ctx); err != nil || len(ls) != 0 {
		t.Fatalf("after a failed copy PostGIS has %d layers (%v), want none", len(ls), err)
	}
	gp, err := gpkg.Open(ctx, filepath.Join(t.TempDir(), "copy.gpkg"))
	if err != nil {
		t.Fatal(err)
	}
	defer gp.Close()
	if _, err := layers.Copy(ctx, &failingSource{CopySource: src}, gp); err == nil {
		t.Fatal("Copy from a source that fails half-way: no error")
	}
	if ls, err := gp.Layers(ctx); err != nil || len(ls) != 0 {
		t.Fatalf("after a failed copy the GeoPackage has %d layers (%v), want none", len(ls), err)
	}
	// A whole copy, then a second into the same store: refused.
	if _, err := layers.Copy(ctx, src, pgs); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	var before bytes.Buffer
	if err := pgs.WriteGeoJSON(ctx, &before, "parcels", nil); err != nil {
		t.Fatal(err)
	}
	for name, dst := range map[string]layers.CopyTarget{"postgis": pgs, "gpkg": src} {
		if _, err := layers.Copy(ctx, src, dst); layers.ErrorCode(err) != layers.ECONFLICT {
			t.Errorf("Copy into a %s store that has layers: %v, want ECONFLICT", name, err)
		}
	}
	var after bytes.Buffer
	if err := pgs.WriteGeoJSON(ctx, &after, "parcels", nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.Bytes(), after.Bytes()) {
		t.Error("a refused copy changed the target")
	}
}

// TestCopyPostGISEdits copies a PostGIS database whose history its own
// triggers wrote (edits through the PostGIS store) into a new GeoPackage,
// which serves the same exports and versions, their times to the
// millisecond the GeoPackage keeps; the change log goes on after the
// source's.
func TestCopyPostGISEdits(t *testing.T) {
	t.Parallel()
	src, _ := mustOpen(t)
	if _, err := src.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatalf("Import: %v", err)
	}
	fids, deleted, token, _ := copyEdits(t, src)
	dst := layerstest.MustOpen(t)
	if _, err := layers.Copy(ctx, src, dst); err != nil {
		t.Fatalf("Copy into a GeoPackage: %v", err)
	}
	sameDatabase(t, pgCopy{src}, gpkgCopy{dst}, fids, true)
	if _, err := dst.Item(ctx, "parcels", deleted); layers.ErrorCode(err) != layers.EGONE {
		t.Errorf("Item(parcels, %d) after the copy: %v, want EGONE", deleted, err)
	}
	if p, err := dst.Principal(ctx, token); err != nil || p == nil || p.Name != "editor1" {
		t.Errorf("Principal(token added on the source) = %+v, %v", p, err)
	}
	a, err := src.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := dst.LastChange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b <= a {
		t.Errorf("the copy's change log ends at %d, the source's at %d: want it to go on after", b, a)
	}
	cs, err := dst.Changes(ctx, a, 1000)
	if err != nil || len(cs) == 0 {
		t.Errorf("Changes after the source's last (%d) on the copy: %v, %v; want the copy's layers", a, cs, err)
	}
}

// TestCopyDroppedLayers: the history of a layer dropped since, and of an
// earlier life of a layer there now whose fields were others, goes with
// the copy: each copy reads them as of a time they existed as the source
// does, every field of each life included.
func TestCopyDroppedLayers(t *testing.T) {
	t.Parallel()
	src := layerstest.MustOpen(t)
	if _, err := src.Import(ctx, seedFiles(t), layers.ImportOptions{}); err != nil {
		t.Fatalf("Import: %v", err)
	}
	tick := func() time.Time {
		time.Sleep(3 * time.Millisecond)
		at := time.Now()
		time.Sleep(3 * time.Millisecond)
		return at
	}
	ls, err := src.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var first, goneLayer *layers.Layer
	for _, l := range ls {
		switch {
		case l.ID == "parcels":
			first = l
		case goneLayer == nil:
			goneLayer = l
		}
	}
	if first == nil || goneLayer == nil {
		t.Fatalf("the seeds have no parcels layer or no other: %d layers", len(ls))
	}
	gone := goneLayer.ID
	var goneFeature layers.Feature
	if err := src.Features(ctx, gone, func(f layers.Feature) error { goneFeature = f; return nil }); err != nil || goneFeature.Geometry == nil {
		t.Fatalf("Features(%s): %v, or none", gone, err)
	}
	// The first life of parcels: a feature edited, with a value in the
	// fields its second life has no more.
	it, err := src.Item(ctx, "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	f := it.Feature()
	f.Properties = maps.Clone(f.Properties)
	f.Properties["berths"] = int64(7)
	f.Properties["name_en"] = "Before the drop"
	if _, err := src.Replace(ctx, "parcels", 1, f, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	t1 := tick()
	for _, id := range []string{gone, "parcels"} {
		if err := src.DropLayer(ctx, id, layers.Edit{Author: "admin"}); err != nil {
			t.Fatalf("DropLayer(%s): %v", id, err)
		}
	}
	// Its second life: fields of integer, date and datetime gone, one
	// added.
	second := *first
	second.Schema = nil
	for _, fd := range first.Schema {
		switch fd.Type {
		case layers.Integer, layers.Date, layers.DateTime:
		default:
			second.Schema = append(second.Schema, fd)
		}
	}
	second.Schema = append(second.Schema, layers.Field{Name: "plot_ratio", Type: layers.Number, Description: layers.Text{Zh: "容积率", En: "Plot ratio"}})
	if err := src.DeclareLayer(ctx, &second, layers.Edit{Author: "admin"}); err != nil {
		t.Fatalf("DeclareLayer(parcels again): %v", err)
	}
	if _, err := src.Create(ctx, "parcels", layers.Feature{
		Properties: map[string]any{"name_zh": "新生", "status": "planned", "plot_ratio": 2.5},
		Geometry:   f.Geometry,
	}, layers.Edit{Author: "bob"}); err != nil {
		t.Fatalf("Create in the second life: %v", err)
	}
	t2 := tick()
	// Within the second life, plot_ratio goes again: parcels written whole
	// without it. As of t2 it is read in the declaration it had then.
	var file bytes.Buffer
	if err := src.WriteGeoJSON(ctx, &file, "parcels", nil); err != nil {
		t.Fatal(err)
	}
	third := regexp.MustCompile(`,"plot_ratio":[0-9.]+|,\{"name":"plot_ratio"[^}]*\}\}`).ReplaceAll(file.Bytes(), nil)
	if bytes.Contains(third, []byte("plot_ratio")) {
		t.Fatalf("the layer file still has plot_ratio:\n%s", third)
	}
	if _, err := src.Import(ctx, []*layers.File{parse(t, "parcels.geojson", third)}, layers.ImportOptions{Replace: true}); err != nil {
		t.Fatalf("Import of parcels without plot_ratio: %v", err)
	}
	t3 := tick()

	pgs, _ := mustOpen(t)
	res, err := layers.Copy(ctx, src, pgs)
	if err != nil {
		t.Fatalf("Copy into PostGIS: %v", err)
	}
	if res.Dropped != 1 || !strings.Contains(res.String(), "the history of 1 dropped layer,") {
		t.Errorf("Copy into PostGIS = %v; want the history of 1 dropped layer, and said", res)
	}
	back := layerstest.MustOpen(t)
	if _, err := layers.Copy(ctx, pgs, back); err != nil {
		t.Fatalf("Copy into a GeoPackage: %v", err)
	}

	type past interface {
		ItemsAsOf(ctx context.Context, id string, t time.Time, f layers.Filter, p layers.Page) ([]*layers.Item, int, error)
	}
	read := func(s past, id string, at time.Time) map[int64]string {
		t.Helper()
		items, _, err := s.ItemsAsOf(ctx, id, at, layers.Filter{}, layers.Page{Limit: 1000})
		if err != nil {
			t.Fatalf("ItemsAsOf(%s): %v", id, err)
		}
		out := map[int64]string{}
		for _, it := range items {
			out[it.ID] = string(it.JSON)
		}
		return out
	}
	if got := read(src, "parcels", t1)[1]; !bytes.Contains([]byte(got), []byte(`"berths":7`)) {
		t.Fatalf("the source as of the first life: parcel 1 = %s; want berths 7", got)
	}
	if got := fmt.Sprint(read(src, "parcels", t2)); !strings.Contains(got, `"plot_ratio":2.5`) {
		t.Fatalf("the source as of t2, before plot_ratio went: %s; want plot_ratio 2.5", got)
	}
	// The dropped layer created again on each: its new feature's id goes
	// on after every id its first life gave out, on the copies as on the
	// source.
	type recreator interface {
		DeclareLayer(ctx context.Context, l *layers.Layer, e layers.Edit) error
		Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error)
	}
	newID := func(name string, s recreator) int64 {
		t.Helper()
		if err := s.DeclareLayer(ctx, goneLayer, layers.Edit{Author: "admin"}); err != nil {
			t.Fatalf("%s: DeclareLayer(%s) again: %v", name, gone, err)
		}
		f := goneFeature
		f.ID = 0
		it, err := s.Create(ctx, gone, f, layers.Edit{Author: "erin"})
		if err != nil {
			t.Fatalf("%s: Create in %s created again: %v", name, gone, err)
		}
		return it.ID
	}
	defer func() {
		if want := newID("source", src); want <= goneFeature.ID {
			t.Errorf("the source gave id %d to a feature of %s created again; its first life used %d", want, gone, goneFeature.ID)
		} else {
			for name, s := range map[string]recreator{"postgis": pgs, "gpkg": back} {
				if got := newID(name, s); got != want {
					t.Errorf("%s: a feature of %s created again got id %d, the source's %d", name, gone, got, want)
				}
			}
		}
	}()
	for _, c := range []struct {
		name string
		s    past
	}{{"postgis", pgs}, {"gpkg", back}} {
		for _, q := range []struct {
			id string
			at time.Time
		}{{"parcels", t1}, {gone, t1}, {"parcels", t2}, {"parcels", t3}} {
			want, got := read(src, q.id, q.at), read(c.s, q.id, q.at)
			if len(want) == 0 || !maps.Equal(got, want) {
				t.Errorf("%s: %s as of %s = %d features, want the source's %d:\n%v\nwant\n%v", c.name, q.id, q.at.Format(time.RFC3339Nano), len(got), len(want), got, want)
			}
		}
	}
}
