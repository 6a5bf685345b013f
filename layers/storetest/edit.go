package storetest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"planmap/layers"
)

// Editor is the write half of web.Editor, which a store that takes
// writes implements: the suite's Edit tests run on it.
type Editor interface {
	Create(ctx context.Context, id string, f layers.Feature, e layers.Edit) (*layers.Item, error)
	Replace(ctx context.Context, id string, fid int64, f layers.Feature, ifMatch string, e layers.Edit) (*layers.Item, error)
	Delete(ctx context.Context, id string, fid int64, ifMatch string, e layers.Edit) error
	Versions(ctx context.Context, id string, fid int64) ([]layers.Version, error)
}

// sqlWriter is a Writer that edits the data with plain SQL, as another
// program (QGIS, GDAL, a shell) would, bypassing the store.
type sqlWriter interface {
	Exec(ctx context.Context, query string, args ...any) error
}

// square is a plot inside grid cell i of the synthetic layers, as a
// single Polygon, which a MultiPolygon layer stores as a MultiPolygon.
func square(i int, inset float64) orb.Polygon {
	x, y := cell(i)
	m := gridCell * inset
	return orb.Polygon{{{x + m, y + m}, {x + gridCell - m, y + m}, {x + gridCell - m, y + gridCell - m}, {x + m, y + gridCell - m}, {x + m, y + m}}}
}

// editor returns the store under test as an Editor, or skips.
func editor(t *testing.T, s Store) Editor {
	t.Helper()
	ed, ok := s.(Editor)
	if !ok {
		t.Skipf("%T takes no writes", s)
	}
	return ed
}

// testEdit checks the writes: what is stored, ids never reused, If-Match,
// retired ids, refused writes, and the history each write leaves.
func testEdit(t *testing.T, h Harness) {
	s, w := h.New(t)
	ed := editor(t, s)
	synthetic(t, s, w, 20) // plots 1 to 20
	plot := func(name string, i int) layers.Feature {
		return layers.Feature{
			Properties: map[string]any{"name_zh": name, "status": "planned", "berths": json.Number("3"), "area_mu": 12.5, "public": true, "opened": "2026/11/30"},
			Geometry:   square(i, 0.1),
		}
	}
	alice := layers.Edit{Author: "alice", Note: "a new plot"}

	t.Run("Create", func(t *testing.T) {
		before := catalog(t, s)
		it, err := ed.Create(ctx, "plots", plot("新地块", 30), alice)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if it.ID != 21 {
			t.Errorf("Create after features 1 to 20: id %d, want 21", it.ID)
		}
		// Typed and normalised as an import does.
		want := map[string]any{"name_zh": "新地块", "status": "planned", "berths": int64(3), "area_mu": 12.5, "public": true, "opened": "2026-11-30"}
		for k, v := range want {
			if it.Properties()[k] != v {
				t.Errorf("Create: property %s = %#v, want %#v", k, it.Properties()[k], v)
			}
		}
		if _, ok := it.Geometry().(orb.MultiPolygon); !ok {
			t.Errorf("Create of a Polygon in a MultiPolygon layer stored a %T", it.Geometry())
		}
		// The writer's next read sees it, at once.
		got := mustItem(t, s, "plots", 21)
		if string(got.JSON) != string(it.JSON) || got.Version() != it.Version() {
			t.Errorf("Item(plots, 21) right after Create = %s, want %s", got.JSON, it.JSON)
		}
		after := catalog(t, s)
		if after.Seq <= before.Seq || collection(t, after, "plots").Count != 21 {
			t.Errorf("catalog after Create: seq %d → %d, count %d; want a later seq and 21", before.Seq, after.Seq, collection(t, after, "plots").Count)
		}
		if page, _ := items(t, s, "plots", layers.Filter{BBoxes: []orb.Bound{it.Bound}}, layers.Page{Limit: 100}); !containsID(page, 21) {
			t.Errorf("Items over the new plot's box = %v, want 21 among them", page)
		}
	})

	t.Run("IDsNeverReused", func(t *testing.T) {
		// The highest id, deleted through the store, then by another
		// client of the data: neither is given out again.
		top := mustItem(t, s, "plots", 21)
		if err := ed.Delete(ctx, "plots", 21, top.Version(), alice); err != nil {
			t.Fatalf("Delete(plots, 21): %v", err)
		}
		it, err := ed.Create(ctx, "plots", plot("又一块", 31), alice)
		if err != nil || it.ID != 22 {
			t.Fatalf("Create after deleting the highest id 21 = %v, %v; want id 22", it, err)
		}
		remove(t, s, w, "plots", 22)
		it, err = ed.Create(ctx, "plots", plot("第三块", 32), alice)
		if err != nil || it.ID != 23 {
			t.Fatalf("Create after another client deleted the highest id 22 = %v, %v; want id 23", it, err)
		}
	})

	t.Run("Refused", func(t *testing.T) {
		bowtie := orb.Polygon{{{121.30, 31.95}, {121.301, 31.951}, {121.301, 31.95}, {121.30, 31.951}, {121.30, 31.95}}}
		for _, tt := range []struct {
			name  string
			edit  func(*layers.Feature)
			names string // what the message must name
		}{
			{"ErrUnknownProperty", func(f *layers.Feature) { f.Properties["colour"] = "red" }, `"colour"`},
			{"ErrRequiredMissing", func(f *layers.Feature) { delete(f.Properties, "status") }, `"status"`},
			{"ErrNotAllowed", func(f *layers.Feature) { f.Properties["status"] = "dreamt" }, `"status"`},
			{"ErrType", func(f *layers.Feature) { f.Properties["berths"] = "three" }, `"berths"`},
			{"ErrGeometryType", func(f *layers.Feature) { f.Geometry = orb.Point{121.3, 31.95} }, "Point"},
			{"ErrSelfIntersecting", func(f *layers.Feature) { f.Geometry = bowtie }, "ring 0"},
			{"ErrNoGeometry", func(f *layers.Feature) { f.Geometry = nil }, "no geometry"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				before := catalog(t, s)
				f := plot("不行", 33)
				tt.edit(&f)
				if it, err := ed.Create(ctx, "plots", f, alice); layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), tt.names) {
					t.Fatalf("Create = %v, %v; want an %s error naming %s", it, err, layers.EINVALID, tt.names)
				}
				f5 := plot("不行", 4)
				tt.edit(&f5)
				if it, err := ed.Replace(ctx, "plots", 5, f5, "", alice); layers.ErrorCode(err) != layers.EINVALID {
					t.Fatalf("Replace(5) = %v, %v; want an %s error", it, err, layers.EINVALID)
				}
				// Nothing left behind: no change, no history.
				if after := catalog(t, s); after.Seq != before.Seq {
					t.Errorf("a refused write moved the catalog from seq %d to %d", before.Seq, after.Seq)
				}
				if cs, err := s.Changes(ctx, before.Seq, 10); err != nil || len(cs) != 0 {
					t.Errorf("Changes after a refused write = %v, %v; want none", cs, err)
				}
			})
		}
		// Nor an id used up.
		it, err := ed.Create(ctx, "plots", plot("第四块", 34), alice)
		if err != nil || it.ID != 24 {
			t.Fatalf("Create after refused creates = %v, %v; want id 24", it, err)
		}
		vs, err := ed.Versions(ctx, "plots", 5)
		if err != nil || len(vs) != 1 {
			t.Errorf("Versions(plots, 5) after refused replaces = %d versions, %v; want only the imported one", len(vs), err)
		}
	})

	t.Run("IfMatch", func(t *testing.T) {
		v := mustItem(t, s, "plots", 9).Version()
		if _, err := ed.Replace(ctx, "plots", 9, plot("九", 8), "nosuchversion", alice); layers.ErrorCode(err) != layers.EPRECONDITION {
			t.Fatalf("Replace(9) with a wrong If-Match: %v, want %s", err, layers.EPRECONDITION)
		}
		it, err := ed.Replace(ctx, "plots", 9, plot("九", 8), v, alice)
		if err != nil {
			t.Fatalf("Replace(9) with its version: %v", err)
		}
		if it.Version() == v || mustItem(t, s, "plots", 9).Version() != it.Version() {
			t.Errorf("Replace(9): version %s → %s, Item says %s", v, it.Version(), mustItem(t, s, "plots", 9).Version())
		}
		// The second of two editors racing from the same version loses.
		if _, err := ed.Replace(ctx, "plots", 9, plot("九九", 8), v, alice); layers.ErrorCode(err) != layers.EPRECONDITION {
			t.Errorf("Replace(9) from the version before: %v, want %s", err, layers.EPRECONDITION)
		}
		if err := ed.Delete(ctx, "plots", 9, v, alice); layers.ErrorCode(err) != layers.EPRECONDITION {
			t.Errorf("Delete(9) from the version before: %v, want %s", err, layers.EPRECONDITION)
		}
		// A weak tag, quoted, with the suffix a compressing proxy adds.
		if _, err := ed.Replace(ctx, "plots", 9, plot("九", 8), `W/"`+it.Version()+`-gzip"`, alice); err != nil {
			t.Errorf("Replace(9) with If-Match W/\"%s-gzip\": %v", it.Version(), err)
		}
	})

	t.Run("Retired", func(t *testing.T) {
		if err := ed.Delete(ctx, "plots", 6, "", alice); err != nil {
			t.Fatalf("Delete(plots, 6): %v", err)
		}
		if _, err := s.Item(ctx, "plots", 6); layers.ErrorCode(err) != layers.EGONE || !strings.Contains(err.Error(), "/versions") {
			t.Errorf("Item(plots, 6) after Delete: %v, want %s naming its versions", err, layers.EGONE)
		}
		if err := ed.Delete(ctx, "plots", 6, "", alice); layers.ErrorCode(err) != layers.EGONE {
			t.Errorf("Delete(plots, 6) again: %v, want %s", err, layers.EGONE)
		}
		if _, err := ed.Replace(ctx, "plots", 6, plot("六", 5), "someversion", alice); layers.ErrorCode(err) != layers.EPRECONDITION {
			t.Errorf("Replace(6) of a deleted feature with If-Match: %v, want %s", err, layers.EPRECONDITION)
		}
		it, err := ed.Replace(ctx, "plots", 6, plot("六", 5), "", alice)
		if err != nil || it.ID != 6 {
			t.Fatalf("Replace(6) of a deleted feature = %v, %v; want it back as 6", it, err)
		}
		if got := mustItem(t, s, "plots", 6); got.Properties()["name_zh"] != "六" {
			t.Errorf("Item(plots, 6) after it came back = %v", got.Properties())
		}
		for _, fid := range []int64{999, 0, -1} {
			if _, err := s.Item(ctx, "plots", fid); layers.ErrorCode(err) != layers.ENOTFOUND {
				t.Errorf("Item(plots, %d), never there: %v, want %s", fid, err, layers.ENOTFOUND)
			}
			if _, err := ed.Replace(ctx, "plots", fid, plot("无", 5), "", alice); layers.ErrorCode(err) != layers.ENOTFOUND {
				t.Errorf("Replace(plots, %d), never there: %v, want %s", fid, err, layers.ENOTFOUND)
			}
			if err := ed.Delete(ctx, "plots", fid, "", alice); layers.ErrorCode(err) != layers.ENOTFOUND {
				t.Errorf("Delete(plots, %d), never there: %v, want %s", fid, err, layers.ENOTFOUND)
			}
			if _, err := ed.Versions(ctx, "plots", fid); layers.ErrorCode(err) != layers.ENOTFOUND {
				t.Errorf("Versions(plots, %d), never there: %v, want %s", fid, err, layers.ENOTFOUND)
			}
		}
		if _, err := ed.Create(ctx, "nowhere", plot("无", 5), alice); layers.ErrorCode(err) != layers.ENOTFOUND {
			t.Errorf("Create in a layer that does not exist: %v, want %s", err, layers.ENOTFOUND)
		}
	})

	t.Run("History", func(t *testing.T) {
		original := mustItem(t, s, "plots", 7)
		bob := layers.Edit{Author: "bob", Note: "moved east"}
		moved, err := ed.Replace(ctx, "plots", 7, plot("七", 40), "", bob)
		if err != nil {
			t.Fatal(err)
		}
		if err := ed.Delete(ctx, "plots", 7, "", layers.Edit{Author: "carol"}); err != nil {
			t.Fatal(err)
		}
		back, err := ed.Replace(ctx, "plots", 7, plot("七又回来", 41), "", layers.Edit{Author: "dave", Note: "restored"})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := ed.Versions(ctx, "plots", 7)
		if err != nil {
			t.Fatalf("Versions(plots, 7): %v", err)
		}
		type want struct {
			op           layers.Op
			author, note string
			item         *layers.Item
		}
		wants := []want{ // newest first
			{layers.OpRestore, "dave", "restored", back},
			{layers.OpDelete, "carol", "", nil},
			{layers.OpUpdate, "bob", "moved east", moved},
			{layers.OpInsert, "", "planmap import", original},
		}
		if len(vs) != len(wants) {
			t.Fatalf("Versions(plots, 7) = %d versions, want %d: %+v", len(vs), len(wants), vs)
		}
		for i, w := range wants {
			v := vs[i]
			if v.Number != len(vs)-i || v.Op != w.op || v.Author != w.author || v.Note != w.note {
				t.Errorf("version %d = number %d, %s by %q (%q); want number %d, %s by %q (%q)", i, v.Number, v.Op, v.Author, v.Note, len(vs)-i, w.op, w.author, w.note)
			}
			switch {
			case w.item == nil && v.Item != nil:
				t.Errorf("version %d (%s) has a feature: %s", v.Number, v.Op, v.Item.JSON)
			case w.item != nil && (v.Item == nil || string(v.Item.JSON) != string(w.item.JSON)):
				t.Errorf("version %d (%s) = %v, want %s", v.Number, v.Op, v.Item, w.item.JSON)
			}
			// Intervals: each ends when the next begins; the newest is open.
			if i == 0 && !v.To.IsZero() {
				t.Errorf("the current version ends at %v", v.To)
			}
			if i > 0 && (!v.To.Equal(vs[i-1].From) || v.From.After(v.To)) {
				t.Errorf("version %d is valid %v to %v; the next begins %v", v.Number, v.From, v.To, vs[i-1].From)
			}
			if v.From.IsZero() || time.Since(v.From) > time.Hour {
				t.Errorf("version %d begins %v", v.Number, v.From)
			}
		}
	})

	t.Run("DirectEdit", func(t *testing.T) {
		sw, ok := w.(sqlWriter)
		if !ok {
			t.Skipf("%T does not edit with plain SQL", w)
		}
		before := catalog(t, s)
		old := mustItem(t, s, "plots", 8)
		if err := sw.Exec(ctx, `UPDATE plots SET name_zh = 'direct edit' WHERE fid = 8`); err != nil {
			t.Fatalf("UPDATE by another client: %v", err)
		}
		waitSeq(t, s, before.Seq)
		if it := mustItem(t, s, "plots", 8); it.Properties()["name_zh"] != "direct edit" {
			t.Errorf("Item(plots, 8) after a direct edit = %v", it.Properties())
		}
		vs, err := ed.Versions(ctx, "plots", 8)
		if err != nil || len(vs) != 2 {
			t.Fatalf("Versions(plots, 8) after a direct edit = %+v, %v; want 2", vs, err)
		}
		if v := vs[0]; v.Op != layers.OpUpdate || v.Author != "" || v.Note != "" || v.Item == nil || v.Item.Properties()["name_zh"] != "direct edit" {
			t.Errorf("the direct edit's version = %s by %q (%q), %v; want an update by nobody", v.Op, v.Author, v.Note, v.Item)
		}
		if v := vs[1]; v.Item == nil || string(v.Item.JSON) != string(old.JSON) {
			t.Errorf("the version before the direct edit = %v, want %s", v.Item, old.JSON)
		}
	})
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
