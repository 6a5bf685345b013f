package postgis_test

import (
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"planmap/layers"
	"planmap/layers/postgis"
)

// Columns QGIS's PostGIS provider adds (ALTER TABLE … ADD COLUMN) become
// optional fields of the layer's declaration once a change is taken in
// (filling the field is one), and are served; a column dropped takes its
// field out. As in the GeoPackage store (TestColumnsOfOtherPrograms).
func TestColumnsOfOtherPrograms(t *testing.T) {
	for _, tt := range []struct {
		name   string
		stmts  []string
		fields map[string]layers.FieldType
		values map[string]any
		gone   []string
		report []string
		// alone: a column change with no edit after it, which the
		// store finds by looking every so often (here every 200 ms).
		alone bool
	}{
		{
			name: "AddColumns",
			stmts: []string{
				`ALTER TABLE parcels ADD COLUMN owner character varying(40)`,
				`ALTER TABLE parcels ADD COLUMN plots integer`,
				`ALTER TABLE parcels ADD COLUMN floors smallint`,
				`ALTER TABLE parcels ADD COLUMN ratio double precision`,
				`ALTER TABLE parcels ADD COLUMN leased boolean`,
				`ALTER TABLE parcels ADD COLUMN signed date`,
				`ALTER TABLE parcels ADD COLUMN checked timestamp without time zone`,
				`ALTER TABLE parcels ADD COLUMN "Agent" text`,
				`ALTER TABLE parcels ADD COLUMN amount numeric(10,2)`,
				`UPDATE parcels SET owner = 'port group', plots = 4, floors = 3, ratio = 0.5, leased = true, signed = '2026-11-30', checked = '2026-12-01 08:00:00', "Agent" = 'x', amount = 1.5 WHERE fid = 1`,
			},
			fields: map[string]layers.FieldType{"owner": layers.String, "plots": layers.Integer, "floors": layers.Integer, "ratio": layers.Number,
				"leased": layers.Boolean, "signed": layers.Date, "checked": layers.DateTime},
			values: map[string]any{"owner": "port group", "plots": int64(4), "floors": int64(3), "ratio": 0.5, "leased": true, "signed": "2026-11-30", "checked": "2026-12-01T08:00:00.000Z"},
			gone:   []string{"Agent", "amount"},
			report: []string{"owner (string)", "floors (integer)", "checked (datetime)", `"Agent": name must be lower-case`, `"amount": has type numeric(10,2)`},
		},
		{
			name:   "Dropped",
			stmts:  []string{`ALTER TABLE parcels DROP COLUMN berths`, `UPDATE parcels SET name_en = 'dropped' WHERE fid = 1`},
			values: map[string]any{"name_en": "dropped"},
			gone:   []string{"berths"},
			report: []string{"berths removed", "dropped"},
		},
		{
			// psql drops a declared column and edits nothing: reads of
			// the layer fail until the store looks.
			name:   "DroppedAlone",
			stmts:  []string{`ALTER TABLE parcels DROP COLUMN berths`},
			gone:   []string{"berths"},
			report: []string{"berths removed"},
			alone:  true,
		},
		{
			name:   "AddedAlone",
			stmts:  []string{`ALTER TABLE parcels ADD COLUMN owner text`},
			fields: map[string]layers.FieldType{"owner": layers.String},
			report: []string{"owner (string)"},
			alone:  true,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.alone {
				defer postgis.SetColumnsLook(200 * time.Millisecond)()
				defer postgis.SetListeningPoll(50 * time.Millisecond)()
			}
			s, url, reports := openParcels(t)
			items, _, err := s.Items(ctx, "parcels", layers.Filter{}, layers.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			was := map[int64]any{}
			for _, it := range items {
				was[it.ID] = it.Properties()["name_en"]
			}
			time.Sleep(5 * time.Millisecond)
			before := time.Now()
			time.Sleep(5 * time.Millisecond)
			conn, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			for _, q := range tt.stmts {
				if _, err := conn.Exec(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			within := 2 * time.Second
			deadline := time.Now().Add(within)
			for {
				cat, err := s.Catalog(ctx)
				if err != nil {
					t.Fatal(err)
				}
				col, _ := cat.Collection("parcels")
				done := col != nil
				for name := range tt.fields {
					done = done && col.Field(name) != nil
				}
				for _, name := range tt.gone {
					done = done && col.Field(name) == nil
				}
				if done {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the declaration of parcels does not follow the columns within %v: %+v", within, col.Schema)
				}
				time.Sleep(20 * time.Millisecond)
			}
			l, err := s.Layer(ctx, "parcels")
			if err != nil {
				t.Fatal(err)
			}
			for name, typ := range tt.fields {
				if f := l.Field(name); f == nil || f.Type != typ || f.Required {
					t.Errorf("Layer(parcels) field %s = %+v, want an optional %s", name, f, typ)
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
			}
			// A write through planmap after: the declaration and the
			// table agree.
			it, err := s.Item(ctx, "parcels", 1)
			if err != nil {
				t.Fatal(err)
			}
			props := maps.Clone(it.Properties())
			props["name_zh"] = "之后"
			if _, err := s.Replace(ctx, "parcels", 1, layers.Feature{Properties: props, Geometry: it.Geometry()}, "", layers.Edit{Author: "alice"}); err != nil {
				t.Errorf("Replace(parcels, 1) after: %v", err)
			}
			// Another direct edit after: nothing more to say.
			if _, err := conn.Exec(ctx, `UPDATE parcels SET name_en = 'again' WHERE fid = 7`); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				it, err := s.Item(ctx, "parcels", 7)
				if err == nil && it.Properties()["name_en"] == "again" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the direct edit after is not served within 2s: %v, %v", it, err)
				}
			}
			// The history before the change is whole: as of then, every
			// feature is there as it was.
			if past, n, err := s.ItemsAsOf(ctx, "parcels", before, layers.Filter{}, layers.Page{Limit: 100}); err != nil || n != len(was) || len(past) != len(was) {
				t.Errorf("ItemsAsOf(before the change) = %d features of %d, %v; want the %d there then", len(past), n, err, len(was))
			} else {
				for _, it := range past {
					if it.Properties()["name_en"] != was[it.ID] {
						t.Errorf("as of before the change, feature %d has name_en %v, want %v", it.ID, it.Properties()["name_en"], was[it.ID])
					}
				}
			}
			reported := reports()
			if n := strings.Count(strings.Join(reported, "\n"), "layer parcels:"); n != 1 {
				t.Errorf("reported %q: %d reports of layer parcels, want 1", reported, n)
			}
			said := strings.Join(reported, "\n")
			for _, want := range tt.report {
				if !strings.Contains(said, "layer parcels:") || !strings.Contains(said, want) {
					t.Errorf("reported %q, want a report of layer parcels saying %q", reported, want)
				}
			}
		})
	}
}

// A declaration that cannot follow its table (here a trigger refuses
// every change of the layers' declarations) is said once, not at every
// look while it cannot, and follows once it can.
func TestColumnsFollowFailureSaidOnce(t *testing.T) {
	defer postgis.SetColumnsLook(100 * time.Millisecond)()
	defer postgis.SetListeningPoll(50 * time.Millisecond)()
	s, url, reports := openParcels(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'declarations are frozen'; END $$`,
		`CREATE TRIGGER frozen BEFORE UPDATE ON planmap_layers FOR EACH ROW EXECUTE FUNCTION refuse()`,
		`ALTER TABLE parcels DROP COLUMN berths`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// About twenty looks.
	time.Sleep(2 * time.Second)
	count := func(what string) int {
		return strings.Count(strings.Join(reports(), "\n"), what)
	}
	if n := count("declarations are frozen"); n != 1 {
		t.Errorf("in 2 s of looks that fail, %d reports of the failure, want 1: %q", n, reports())
	}
	if _, err := conn.Exec(ctx, `DROP TRIGGER frozen ON planmap_layers`); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		cat, err := s.Catalog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if col, _ := cat.Collection("parcels"); col != nil && col.Field("berths") == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the declaration does not follow within 2 s of the trigger's drop")
		}
	}
	if n := count("berths removed"); n != 1 {
		t.Errorf("%d reports of the column removed, want 1", n)
	}
}

// openParcels opens a store with the contract's parcels layer and its
// catalog built; reports returns what the store has reported so far.
func openParcels(t *testing.T) (s *postgis.Store, url string, reports func() []string) {
	t.Helper()
	s, url = mustOpen(t)
	data, err := os.ReadFile("../storetest/testdata/parcels.geojson")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, []*layers.File{parse(t, "parcels.geojson", data)}, layers.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
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
	return s, url, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(reported)
	}
}
