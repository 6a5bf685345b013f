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
