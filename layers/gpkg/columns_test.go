package gpkg_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
)

// parcelsColumns are the column definitions of the parcels table as
// planmap creates it, after fid and geom.
const parcelsColumns = `name_zh TEXT, name_en TEXT, status TEXT, berths INTEGER, area_mu DOUBLE, public BOOLEAN, opened DATE, surveyed DATETIME`

// rebuild is how GDAL (under QGIS) changes a table's columns when ALTER
// TABLE cannot: a new table with the columns cols, the rows copied, the
// old table dropped (and its triggers with it), the new one renamed, in
// one transaction.
func rebuild(cols, copied string) []string {
	return []string{
		`BEGIN`,
		`CREATE TABLE parcels_new (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom MULTIPOLYGON NOT NULL, ` + cols + `)`,
		`INSERT INTO parcels_new SELECT ` + copied + ` FROM parcels`,
		`DROP TABLE parcels`,
		`ALTER TABLE parcels_new RENAME TO parcels`,
		`COMMIT`,
	}
}

// Columns another program adds to a layer's table (QGIS or GDAL adding a
// field, by ALTER TABLE or by rebuilding the table) become optional
// fields of the layer's declaration, of the columns' types, and are
// served; a column it drops takes its field out of the declaration, and
// the layer is read without it. Each change is reported and logged as a
// change of the layer as a whole, and the history before it stays whole.
func TestColumnsOfOtherPrograms(t *testing.T) {
	for _, tt := range []struct {
		name  string
		stmts []string
		// fields are the fields wanted in the declaration after, name
		// and type, with the value parcel 1 has; gone those wanted gone.
		fields map[string]layers.FieldType
		values map[string]any
		gone   []string
		// report is what the report says, besides the layer's id.
		report []string
		// piecemeal: statements the store may follow one by one, each
		// saying again what it left out; otherwise each of report is
		// said once.
		piecemeal bool
	}{
		{
			name:   "AddColumn",
			stmts:  []string{`ALTER TABLE parcels ADD COLUMN owner TEXT(40)`, `UPDATE parcels SET owner = 'port group' WHERE fid = 1`},
			fields: map[string]layers.FieldType{"owner": layers.String},
			values: map[string]any{"owner": "port group"},
			report: []string{"owner (string) added"},
		},
		{
			name: "EveryType",
			stmts: []string{
				`ALTER TABLE parcels ADD COLUMN plots MEDIUMINT`,
				`ALTER TABLE parcels ADD COLUMN ratio REAL`,
				`ALTER TABLE parcels ADD COLUMN share FLOAT`,
				`ALTER TABLE parcels ADD COLUMN leased BOOLEAN`,
				`ALTER TABLE parcels ADD COLUMN signed DATE`,
				`ALTER TABLE parcels ADD COLUMN checked DATETIME`,
				`ALTER TABLE parcels ADD COLUMN "Agent" TEXT`,
				`ALTER TABLE parcels ADD COLUMN "limit" INTEGER`,
				`ALTER TABLE parcels ADD COLUMN geodesic_area REAL`,
				`ALTER TABLE parcels ADD COLUMN photo BLOB`,
				`UPDATE parcels SET plots = 4, ratio = 0.5, share = 2, leased = 1, signed = '2026-11-30', checked = '2026-12-01T08:00:00.000Z', "Agent" = 'x' WHERE fid = 1`,
			},
			fields: map[string]layers.FieldType{"plots": layers.Integer, "ratio": layers.Number, "share": layers.Number,
				"leased": layers.Boolean, "signed": layers.Date, "checked": layers.DateTime},
			values:    map[string]any{"plots": int64(4), "ratio": 0.5, "share": 2.0, "leased": true, "signed": "2026-11-30", "checked": "2026-12-01T08:00:00.000Z"},
			gone:      []string{"Agent", "limit", "geodesic_area", "photo"},
			report:    []string{"plots (integer)", "checked (datetime)", `"Agent": name must be lower-case`, `"limit"`, `"geodesic_area"`, `"photo": holds binary data`},
			piecemeal: true,
		},
		{
			// A column that cannot be a field changes nothing else: the
			// report says it is not served.
			name:   "BinaryOnly",
			stmts:  []string{`ALTER TABLE parcels ADD COLUMN photo BLOB`},
			gone:   []string{"photo"},
			report: []string{`"photo": holds binary data`},
		},
		{
			// A column of a name a field cannot have changes the history
			// triggers (they keep it) but not the declaration.
			name:   "BadNameOnly",
			stmts:  []string{`ALTER TABLE parcels ADD COLUMN "Agent" TEXT`},
			gone:   []string{"Agent"},
			report: []string{`"Agent": name must be lower-case`},
		},
		{
			name: "Rebuilt",
			stmts: append(rebuild(parcelsColumns+`, owner TEXT`, `*, NULL`),
				`UPDATE parcels SET owner = 'city' WHERE fid = 1`),
			fields: map[string]layers.FieldType{"owner": layers.String},
			values: map[string]any{"owner": "city"},
			report: []string{"owner (string) added"},
		},
		{
			name:   "Dropped",
			stmts:  rebuild(strings.Replace(parcelsColumns, "berths INTEGER, ", "", 1), `fid, geom, name_zh, name_en, status, area_mu, public, opened, surveyed`),
			values: map[string]any{"name_zh": "一号地块 <b>&"},
			gone:   []string{"berths"},
			report: []string{"berths removed", "dropped"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := layerstest.MustOpen(t)
			mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
			var mu sync.Mutex
			var reported []string
			s.OnError(func(err error) {
				mu.Lock()
				reported = append(reported, err.Error())
				mu.Unlock()
			})
			if _, err := s.Catalog(ctx); err != nil {
				t.Fatal(err)
			}
			items, _, err := s.Items(ctx, "parcels", layers.Filter{}, layers.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			was := map[int64]any{}
			for _, it := range items {
				was[it.ID] = it.Properties()["name_zh"]
			}
			time.Sleep(5 * time.Millisecond)
			before := time.Now()
			time.Sleep(5 * time.Millisecond)
			db := rawDB(t, s)
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, q := range tt.stmts {
				// On one connection: a rebuild is one transaction.
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			waitFor(t, "the declaration following the columns", func() bool {
				cat, err := s.Catalog(ctx)
				if err != nil {
					return false
				}
				col, ok := cat.Collection("parcels")
				if !ok {
					return false
				}
				for name := range tt.fields {
					if col.Field(name) == nil {
						return false
					}
				}
				for _, name := range tt.gone {
					if col.Field(name) != nil {
						return false
					}
				}
				// A column left out changes no field: only its report
				// says the store has seen the last statement.
				mu.Lock()
				defer mu.Unlock()
				return reportedAll(reported, tt.report)
			})
			l, err := s.Layer(ctx, "parcels")
			if err != nil {
				t.Fatal(err)
			}
			for name, typ := range tt.fields {
				if f := l.Field(name); f == nil || f.Type != typ || f.Required {
					t.Errorf("Layer(parcels) field %s = %+v, want an optional %s", name, f, typ)
				}
			}
			for _, name := range tt.gone {
				if f := l.Field(name); f != nil {
					t.Errorf("Layer(parcels) has field %s, want it left out", name)
				}
			}
			items, _, err = s.Items(ctx, "parcels", layers.Filter{}, layers.Page{Limit: 10})
			if err != nil || len(items) != 3 {
				t.Fatalf("Items(parcels) = %d items, %v; want 3", len(items), err)
			}
			for _, it := range items {
				if it.ID != 1 {
					continue
				}
				for name, want := range tt.values {
					if got := it.Properties()[name]; got != want {
						t.Errorf("Items(parcels): parcel 1 has %s = %#v (%T), want %#v", name, got, got, want)
					}
				}
				for _, name := range tt.gone {
					if _, ok := it.Properties()[name]; ok {
						t.Errorf("Items(parcels): parcel 1 has %s, want it not served", name)
					}
				}
				if tt.values["owner"] != nil && !strings.Contains(string(it.JSON), `"owner":`) {
					t.Errorf("Items(parcels): parcel 1 is served as %s, without owner", it.JSON)
				}
			}
			// The history before the change is whole: as of then, every
			// feature is there as it was.
			if past, n, err := s.ItemsAsOf(ctx, "parcels", before, layers.Filter{}, layers.Page{Limit: 10}); err != nil || n != len(was) || len(past) != len(was) {
				t.Errorf("ItemsAsOf(before the change) = %d features of %d, %v; want the %d there then", len(past), n, err, len(was))
			} else {
				for _, it := range past {
					if it.Properties()["name_zh"] != was[it.ID] {
						t.Errorf("as of before the change, feature %d has name_zh %v, want %v", it.ID, it.Properties()["name_zh"], was[it.ID])
					}
				}
			}
			// A write through planmap after: the declaration and the
			// table agree.
			time.Sleep(5 * time.Millisecond)
			mid := time.Now()
			time.Sleep(5 * time.Millisecond)
			it, err := s.Replace(ctx, "parcels", 1, edited(t, s, "parcels", 1, "之后"), "", layers.Edit{Author: "alice"})
			if err != nil {
				t.Fatalf("Replace(parcels, 1) after: %v", err)
			}
			for name, want := range tt.values {
				if name != "name_zh" && it.Properties()[name] != want {
					t.Errorf("Replace(parcels, 1) after: %s = %#v, want %#v kept", name, it.Properties()[name], want)
				}
			}
			// A copy reads the past as the store does: the version the
			// write ended has the columns the other program added.
			cp := layerstest.MustOpen(t)
			if _, err := layers.Copy(ctx, s, cp); err != nil {
				t.Fatalf("Copy: %v", err)
			}
			for name, at := range map[string]time.Time{"before the change": before, "after it": mid} {
				want, _, err := s.ItemsAsOf(ctx, "parcels", at, layers.Filter{}, layers.Page{Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := cp.ItemsAsOf(ctx, "parcels", at, layers.Filter{}, layers.Page{Limit: 10})
				if err != nil || len(got) != len(want) {
					t.Fatalf("the copy as of %s: %d items, %v; want %d", name, len(got), err, len(want))
				}
				for i := range want {
					if string(got[i].JSON) != string(want[i].JSON) {
						t.Errorf("the copy as of %s: feature %d =\n%s\nwant\n%s", name, want[i].ID, got[i].JSON, want[i].JSON)
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if !reportedAll(reported, tt.report) {
				t.Errorf("reported %q, want reports of layer parcels saying %q", reported, tt.report)
			}
			for _, want := range tt.report {
				n := 0
				for _, r := range reported {
					if strings.Contains(r, "layer parcels:") && strings.Contains(r, want) {
						n++
					}
				}
				if n > 1 && !tt.piecemeal {
					t.Errorf("reported %q: %q said %d times, want once", reported, want, n)
				}
			}
		})
	}
}

// reportedAll reports whether the reports of layer parcels say each of
// want. The store may follow between two of the statements: what it
// says of the layer may come in more than one report.
func reportedAll(reported, want []string) bool {
	var said string
	for _, r := range reported {
		if strings.Contains(r, "layer parcels:") {
			said += r + "\n"
		}
	}
	for _, w := range want {
		if !strings.Contains(said, w) {
			return false
		}
	}
	return true
}

// A read-only store cannot change a declaration: it says so once, and
// serves the layer as declared.
func TestColumnsOfOtherProgramsReadOnly(t *testing.T) {
	s := layerstest.MustOpen(t)
	mustImport(t, s, layers.ImportOptions{}, parseText(t, "parcels.geojson", readTestdata(t, "parcels.geojson")))
	ro, err := gpkg.OpenReadOnly(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	var mu sync.Mutex
	var reported []string
	ro.OnError(func(err error) {
		mu.Lock()
		reported = append(reported, err.Error())
		mu.Unlock()
	})
	if _, err := ro.Catalog(ctx); err != nil {
		t.Fatal(err)
	}
	db := rawDB(t, s)
	for _, q := range []string{`ALTER TABLE parcels ADD COLUMN owner TEXT`, `UPDATE parcels SET owner = 'port group' WHERE fid = 1`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	waitFor(t, "the read-only store's report", func() bool {
		ro.Catalog(ctx)
		mu.Lock()
		defer mu.Unlock()
		return len(reported) > 0
	})
	time.Sleep(100 * time.Millisecond)
	if it, err := ro.Item(ctx, "parcels", 1); err != nil || it.Properties()["owner"] != nil {
		t.Errorf("read-only Item(parcels, 1) = %v, %v; want it served as declared, without owner", it, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reported) != 1 || !strings.Contains(reported[0], "declarations of parcels do not follow") {
		t.Errorf("the read-only store reported %q, want once that the declaration of parcels does not follow", reported)
	}
}
