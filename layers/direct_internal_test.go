package layers

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// Flags Save could not write are kept for the next Save, unless a newer
// state of the feature came meanwhile; written, they are not written
// again.
func TestDirectChecksSave(t *testing.T) {
	ctx := context.Background()
	var d DirectChecks
	var reports []string
	d.OnProblem(func(layer string, fid int64, err error) {
		if err != nil {
			reports = append(reports, layer+" fails: "+err.Error())
		} else {
			reports = append(reports, layer+" passes")
		}
	})
	a, b := featureKey{"parcels", 1}, featureKey{"parcels", 2}
	d.set(a, 10, errors.New("status bogus"))
	d.set(b, 11, errors.New("name_zh missing"))
	d.set(b, 12, errors.New("name_zh missing")) // the same: nothing new
	if want := []string{"parcels fails: status bogus", "parcels fails: name_zh missing"}; !slices.Equal(reports, want) {
		t.Errorf("reports = %q, want %q", reports, want)
	}

	failed := errors.New("database is locked")
	err := d.Save(ctx, func(context.Context, []Flag) error {
		// Checked again while the write fails: b passes now.
		d.set(b, 13, nil)
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("Save with a failing write = %v, want it to wrap %v", err, failed)
	}
	var written []Flag
	err = d.Save(ctx, func(_ context.Context, fs []Flag) error {
		written = append(written, fs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(written, func(x, y Flag) int { return int(x.FID - y.FID) })
	want := []Flag{{"parcels", 1, "status bogus", 10}, {"parcels", 2, "", 13}}
	if !slices.Equal(written, want) {
		t.Errorf("written after the failure = %+v, want %+v", written, want)
	}
	if p := d.Problem("parcels", 2); p != "" {
		t.Errorf("Problem(parcels, 2) = %q after it passed", p)
	}
	called := false
	if err := d.Save(ctx, func(context.Context, []Flag) error { called = true; return nil }); err != nil || called {
		t.Errorf("Save with nothing new: called %v, err %v; want no write", called, err)
	}
}

// A write's changes (lo, hi] are the store's own until taken in
// (ForgetOwn) or dropped when its commit failed (DropOwn).
func TestDirectChecksOwn(t *testing.T) {
	var d DirectChecks
	d.OwnWrite(3, 5)
	d.OwnWrite(5, 5) // wrote no change
	d.OwnWrite(7, 9)
	for seq, want := range map[int64]bool{3: false, 4: true, 5: true, 6: false, 8: true, 10: false} {
		if got := d.isOwn(seq); got != want {
			t.Errorf("isOwn(%d) = %v, want %v", seq, got, want)
		}
	}
	d.DropOwn(7, 9)
	if d.isOwn(8) {
		t.Error("isOwn(8) after DropOwn(7, 9)")
	}
	d.OwnWrite(7, 9)
	d.ForgetOwn(6)
	if d.isOwn(4) || !d.isOwn(8) {
		t.Errorf("after ForgetOwn(6): isOwn(4) = %v, isOwn(8) = %v; want false, true", d.isOwn(4), d.isOwn(8))
	}
}
