package layers_test

import (
	"strings"
	"testing"
	"time"

	"planmap/layers"
)

// TestPastLife sweeps the times of a layer's two lives, the first
// dropped with its declaration kept, and of a layer dropped before
// planmap kept declarations.
func TestPastLife(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	decl := func(title string) []byte {
		b, err := layers.DroppedDeclaration(&layers.Layer{ID: "roads", Title: layers.Text{Zh: title, En: title}, GeometryType: "LineString",
			Schema: []layers.Field{{Name: "name_zh", Type: layers.String}}})
		if err != nil {
			t.Fatalf("DroppedDeclaration: %v", err)
		}
		return b
	}
	// Created on the 2nd, replaced on the 4th, dropped on the 6th,
	// created again on the 8th, dropped again on the 10th.
	twoLives := []layers.LayerEvent{
		{At: day(2)}, {At: day(4)}, {At: day(6), Declaration: decl("first")},
		{At: day(8)}, {At: day(10), Declaration: decl("second")},
	}
	// Created on the 2nd, dropped on the 6th before declarations were kept.
	oldDrop := []layers.LayerEvent{{At: day(2)}, {At: day(6)}}
	for _, c := range []struct {
		name    string
		at      time.Time
		exists  bool
		events  []layers.LayerEvent
		title   string // of the life read; "" for the layer there now
		errText string // of the ENOTFOUND error, when there is one
	}{
		{"FirstLife", day(3), false, twoLives, "first", ""},
		{"FirstLifeAfterReplace", day(5), false, twoLives, "first", ""},
		{"SecondLife", day(9), false, twoLives, "second", ""},
		{"AtTheDrop", day(6), false, twoLives, "", "did not exist"},
		{"ErrBeforeCreation", day(1), false, twoLives, "", "did not exist"},
		{"ErrBetweenLives", day(7), false, twoLives, "", "created at 2026-11-08T12:00:00Z"},
		{"ErrAfterDrop", day(11), false, twoLives, "", "dropped at 2026-11-10T12:00:00Z"},
		{"ThirdLifeNow", day(11), true, append(twoLives, layers.LayerEvent{At: day(11)}), "", ""},
		{"FirstLifeOfLayerThereNow", day(3), true, append(twoLives, layers.LayerEvent{At: day(11)}), "first", ""},
		{"BeforeAnyLifeOfLayerThereNow", day(1), true, append(twoLives, layers.LayerEvent{At: day(11)}), "", ""},
		{"BetweenLivesOfLayerThereNow", day(7), true, append(twoLives, layers.LayerEvent{At: day(11)}), "", ""},
		{"ErrOldDrop", day(3), false, oldDrop, "", "before planmap kept the declarations"},
		{"ErrAfterOldDrop", day(7), false, oldDrop, "", "dropped at 2026-11-06T12:00:00Z"},
		{"ErrNever", day(3), false, nil, "", "there is no collection"},
		{"NeverButThereNow", day(3), true, nil, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := layers.PastLife("roads", c.at, c.exists, c.events)
			switch {
			case c.errText != "":
				if layers.ErrorCode(err) != layers.ENOTFOUND || !strings.Contains(err.Error(), c.errText) {
					t.Errorf("PastLife(%s) = %v, %v; want %s saying %q", c.at, p, err, layers.ENOTFOUND, c.errText)
				}
			case err != nil:
				t.Errorf("PastLife(%s): %v", c.at, err)
			case c.title == "" && p != nil:
				t.Errorf("PastLife(%s) = life %q, want nil: the layer there now", c.at, p.Title.En)
			case c.title != "" && (p == nil || p.Title.En != c.title):
				t.Errorf("PastLife(%s) = %+v, want the life %q", c.at, p, c.title)
			}
		})
	}
}

// TestLives: each row of a history belongs to the life the next drop that
// kept its declaration ended, rows after the last drop to the layer there
// now; a drop that kept none ends no life it can tell.
func TestLives(t *testing.T) {
	decl := func(title string) []byte {
		b, err := layers.DroppedDeclaration(&layers.Layer{ID: "roads", Title: layers.Text{Zh: title, En: title}, GeometryType: "LineString"})
		if err != nil {
			t.Fatalf("DroppedDeclaration: %v", err)
		}
		return b
	}
	// Rows 1 and 4 begin lives, a drop without a declaration at 3, drops
	// that kept theirs at 6 and 9.
	events := []layers.LayerEvent{{Row: 1}, {Row: 3}, {Row: 4}, {Row: 6, Declaration: decl("first")}, {Row: 7}, {Row: 9, Declaration: decl("second")}}
	live := &layers.Layer{ID: "roads", Title: layers.Text{En: "now"}}
	lives, err := layers.NewLives("roads", live, events)
	if err != nil {
		t.Fatalf("NewLives: %v", err)
	}
	for row, want := range map[int64]string{2: "first", 5: "first", 6: "first", 7: "second", 9: "second", 10: "", 40: ""} {
		l, err := lives.Of(row)
		switch {
		case err != nil:
			t.Errorf("Of(%d): %v", row, err)
		case want == "" && l != nil:
			t.Errorf("Of(%d) = %q, want the layer there now (nil)", row, l.Title.En)
		case want != "" && (l == nil || l.Title.En != want):
			t.Errorf("Of(%d) = %v, want the life %q", row, l, want)
		}
	}
	gone, err := layers.NewLives("roads", nil, events)
	if err != nil {
		t.Fatalf("NewLives of a dropped layer: %v", err)
	}
	if l, err := gone.Of(8); err != nil || l == nil || l.Title.En != "second" {
		t.Errorf("Of(8) of the dropped layer = %v, %v; want the life second", l, err)
	}
	if _, err := gone.Of(10); err == nil {
		t.Error("Of(10), after the last drop of a layer not there now: no error")
	}
	if _, err := layers.NewLives("roads", nil, events[:3]); layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("NewLives of a layer dropped before declarations were kept: %v, want %s", err, layers.ENOTFOUND)
	}
}

// TestLayerAtRedeclared: within a life, a time is read in the
// declaration the layer had then, which the first redeclaration after it
// kept; redeclarations begin and end no life, and one in another life
// does not count.
func TestLayerAtRedeclared(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 12, 0, 0, 0, time.UTC) }
	decl := func(title string) []byte {
		b, err := layers.DroppedDeclaration(&layers.Layer{ID: "roads", Title: layers.Text{Zh: title, En: title}, GeometryType: "LineString"})
		if err != nil {
			t.Fatalf("DroppedDeclaration: %v", err)
		}
		return b
	}
	// Created on the 2nd as "a", redeclared on the 4th as "b", dropped on
	// the 6th (as "b"); created again on the 8th as "c", redeclared on the
	// 10th and 12th as "d" and then as the layer there now.
	events := []layers.LayerEvent{
		{Row: 1, At: day(2)},
		{Row: 2, At: day(4), Declaration: decl("a"), Redeclared: true},
		{Row: 3, At: day(6), Declaration: decl("b")},
		{Row: 4, At: day(8)},
		{Row: 5, At: day(10), Declaration: decl("c"), Redeclared: true},
		{Row: 6, At: day(12), Declaration: decl("d"), Redeclared: true},
	}
	live := &layers.Layer{ID: "roads", Title: layers.Text{En: "now"}}
	for _, c := range []struct {
		day   int
		title string
		past  bool
	}{{3, "a", true}, {5, "b", true}, {9, "c", false}, {11, "d", false}, {13, "now", false}} {
		l, past, err := layers.LayerAt("roads", day(c.day), live, events)
		if err != nil {
			t.Fatalf("LayerAt(day %d): %v", c.day, err)
		}
		if l.Title.En != c.title || (past != nil) != c.past {
			t.Errorf("LayerAt(day %d) = %q, past %v; want %q, past %v", c.day, l.Title.En, past != nil, c.title, c.past)
		}
		if past != nil && (past.Layer != l || !past.Created.Equal(day(2)) || !past.Dropped.Equal(day(6))) {
			t.Errorf("LayerAt(day %d): past life %q from %s to %s, want %q from the 2nd to the 6th", c.day, past.Title.En, past.Created, past.Dropped, l.Title.En)
		}
	}
	// A time before the first life of the layer there now: the layer
	// there now, not a declaration of the life dropped since.
	if l, past, err := layers.LayerAt("roads", day(1), live, events[:4]); err != nil || past != nil || l != live {
		t.Errorf("LayerAt(day 1), before every life = %v, past %v, %v; want the layer there now", l, past, err)
	}
	// Copy: each row in the declaration it was written under.
	lives, err := layers.NewLives("roads", live, events)
	if err != nil {
		t.Fatal(err)
	}
	for row, want := range map[int64]string{1: "a", 2: "a", 3: "b", 4: "c", 5: "c", 6: "d", 7: ""} {
		l, err := lives.Of(row)
		if got := ""; err != nil || (l == nil) != (want == "") || (l != nil && l.Title.En != want) {
			if l != nil {
				got = l.Title.En
			}
			t.Errorf("Of(%d) = %q, %v; want %q", row, got, err, want)
		}
	}
}

// TestLivesWiden: a row written before a redeclaration may hold a column
// another program added before planmap recorded it; the declaration kept
// reads the fields of the next of its life too.
func TestLivesWiden(t *testing.T) {
	field := func(name string) layers.Field { return layers.Field{Name: name, Type: layers.String} }
	decl := func(fields ...string) []byte {
		l := &layers.Layer{ID: "roads", Title: layers.Text{Zh: "路", En: "roads"}, GeometryType: "LineString"}
		for _, f := range fields {
			l.Schema = append(l.Schema, field(f))
		}
		b, err := layers.DroppedDeclaration(l)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	live := &layers.Layer{ID: "roads", GeometryType: "LineString", Schema: []layers.Field{field("name"), field("owner")}}
	events := []layers.LayerEvent{{Row: 1}, {Row: 5, Declaration: decl("name"), Redeclared: true}}
	lives, err := layers.NewLives("roads", live, events)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lives.Of(3)
	if err != nil || l == nil || l.Field("name") == nil || l.Field("owner") == nil {
		t.Fatalf("Of(3) = %+v, %v; want name, and owner of the declaration after", l, err)
	}
	// A life dropped since takes nothing of the next life.
	events = []layers.LayerEvent{{Row: 1}, {Row: 5, Declaration: decl("name")}, {Row: 6}}
	if lives, err = layers.NewLives("roads", live, events); err != nil {
		t.Fatal(err)
	}
	if l, err := lives.Of(3); err != nil || l == nil || l.Field("owner") != nil {
		t.Errorf("Of(3) of a dropped life = %+v, %v; want its own fields only", l, err)
	}
}
