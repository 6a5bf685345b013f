package gpkg_test

import (
	"context"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
	"planmap/layers/gpkg"
)

// TestEditsKeepPlanningRules: a write through the store that breaks a
// rule the seeds declare is refused with the other feature named, from
// either side, and leaves the store as it was.
func TestEditsKeepPlanningRules(t *testing.T) {
	ctx := context.Background()
	s := seededStore(t)
	first := func(layer, nameZh string) *layers.Item {
		t.Helper()
		its, _, err := s.Items(ctx, layer, layers.Filter{Equals: map[string]any{"name_zh": nameZh}}, layers.Page{Limit: 1})
		if err != nil || len(its) != 1 {
			t.Fatalf("%s %s: %v, %d items", layer, nameZh, err, len(its))
		}
		return its[0]
	}
	park := first("parks", "海港生态公园")
	terminal := first("terminals", "中天内河码头")
	boundary := first("boundary", "海门港新区（包场镇）")
	ed := layers.Edit{Author: "test"}
	refused := func(t *testing.T, err error, wants ...string) {
		t.Helper()
		if layers.ErrorCode(err) != layers.EINVALID {
			t.Fatalf("error %v (code %s), want EINVALID", err, layers.ErrorCode(err))
		}
		for _, w := range wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not name %q", err, w)
			}
		}
	}
	unchanged := func(t *testing.T, layer string, it *layers.Item) {
		t.Helper()
		got, err := s.Item(ctx, layer, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version() != it.Version() {
			t.Errorf("%s %d changed by a refused write", layer, it.ID)
		}
	}

	t.Run("TerminalOntoPark", func(t *testing.T) {
		moved := terminal.Feature()
		moved.Geometry = park.Geometry()
		_, err := s.Replace(ctx, "terminals", terminal.ID, moved, terminal.Version(), ed)
		refused(t, err, "parks", "海港生态公园")
		unchanged(t, "terminals", terminal)
	})
	t.Run("NewParkOverTerminal", func(t *testing.T) {
		before, _ := s.Catalog(ctx)
		f := park.Feature()
		f.Geometry = terminal.Geometry()
		_, err := s.Create(ctx, "parks", f, ed)
		refused(t, err, "terminals", "中天内河码头")
		after, _ := s.Catalog(ctx)
		b, _ := before.Collection("parks")
		a, _ := after.Collection("parks")
		if a.Count != b.Count {
			t.Errorf("parks: %d features after a refused create, %d before", a.Count, b.Count)
		}
	})
	t.Run("DeleteBoundary", func(t *testing.T) {
		err := s.Delete(ctx, "boundary", boundary.ID, "", ed)
		refused(t, err, "boundary")
		unchanged(t, "boundary", boundary)
	})
	t.Run("FixNamesOfABreakingFeature", func(t *testing.T) {
		// A terminal written over the park without the rules (as an
		// import or a direct edit may bring it) can still have its names
		// corrected; moving it elsewhere over the park is refused.
		s.CheckRules = nil
		over := terminal.Feature()
		over.Geometry = park.Geometry()
		it, err := s.Replace(ctx, "terminals", terminal.ID, over, "", ed)
		s.CheckRules = gpkg.PlanningRules
		if err != nil {
			t.Fatal(err)
		}
		named := it.Feature()
		named.Properties["name_en"] = "Zhongtian inland wharf (renamed)"
		it, err = s.Replace(ctx, "terminals", terminal.ID, named, it.Version(), ed)
		if err != nil {
			t.Fatalf("a names-only edit of a feature that breaks a rule: %v", err)
		}
		nudged := it.Feature()
		nudged.Geometry = orb.Polygon{park.Geometry().Bound().Pad(-0.0001).ToRing()}
		_, err = s.Replace(ctx, "terminals", terminal.ID, nudged, it.Version(), ed)
		refused(t, err, "parks")
		// Put it back where it was, for the subtests after this one.
		if _, err := s.Replace(ctx, "terminals", terminal.ID, terminal.Feature(), "", ed); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("AllowedEdit", func(t *testing.T) {
		f := park.Feature()
		f.Properties["name_en"] = "Harbour Eco-Park (renamed)"
		if _, err := s.Replace(ctx, "parks", park.ID, f, park.Version(), ed); err != nil {
			t.Fatalf("an edit that keeps the rules: %v", err)
		}
	})
}
