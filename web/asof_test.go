package web_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"planmap/layers"
	"planmap/layers/cache"
	"planmap/web"
)

// pastServer is a test store (open gives it) behind the feature cache, as
// serve runs it, with a history: parcel 1 goes from planned to under
// construction, then parcel 3 (signed) is deleted. It returns the server and the times
// before the import, after it (on a whole second, for Accept-Datetime),
// after the first edit and after the second, with the statistics and
// items served at each.
type past struct {
	srv                  *httptest.Server
	before, t0, t1, t2   time.Time
	items0, items2       map[string]any // GeoJSON of the items served then
	districtStats0       statsDoc
	parcelArea1, area1t0 float64 // parcel 1's m² as served at t2 and at t0
}

func pastServer(t *testing.T, open func(t *testing.T) cache.Store) past {
	t.Helper()
	var p past
	p.before = time.Now()
	time.Sleep(5 * time.Millisecond)
	s := open(t)
	c := cache.New(s, cache.DefaultBudget)
	p.srv = httptest.NewServer(web.NewRouter(c, web.Options{Downloads: newCache(t, web.DefaultDownloadBudget)}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(p.srv.Close)
	// A whole second after the import, before the edits.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 5*time.Millisecond)))
	p.t0 = time.Now().Truncate(time.Second)
	p.items0 = get(t, p.srv.URL+"/collections/parcels/items").json(t)
	p.districtStats0 = getStats(t, p.srv.URL+"/stats")
	p.area1t0 = get(t, p.srv.URL+"/collections/parcels/items/1").json(t)["properties"].(map[string]any)[layers.AreaM2].(float64)
	time.Sleep(5 * time.Millisecond)

	it, err := s.Item(ctx, "parcels", 1)
	if err != nil {
		t.Fatal(err)
	}
	props := maps.Clone(it.Properties())
	props["status"] = "under_construction"
	if _, err := c.Replace(ctx, "parcels", 1, layers.Feature{Properties: props, Geometry: it.Geometry()}, "", layers.Edit{Author: "alice"}); err != nil {
		t.Fatal(err)
	}
	p.t1 = tick()
	if err := c.Delete(ctx, "parcels", 3, "", layers.Edit{Author: "bob"}); err != nil {
		t.Fatal(err)
	}
	p.t2 = tick()
	p.items2 = get(t, p.srv.URL+"/collections/parcels/items").json(t)
	p.parcelArea1 = get(t, p.srv.URL+"/collections/parcels/items/1").json(t)["properties"].(map[string]any)[layers.AreaM2].(float64)
	return p
}

func tick() time.Time {
	time.Sleep(5 * time.Millisecond)
	t := time.Now()
	time.Sleep(5 * time.Millisecond)
	return t
}

func rfc(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339Nano)) }

func ids(t *testing.T, fc map[string]any) []float64 {
	t.Helper()
	var out []float64
	for _, f := range fc["features"].([]any) {
		out = append(out, f.(map[string]any)["id"].(float64))
	}
	return out
}

// featuresJSON is the features member of a FeatureCollection as JSON.
func featuresJSON(fc map[string]any) string {
	b, _ := json.Marshal(fc["features"])
	return string(b)
}

// TestAsOf: items, a feature and the statistics as of a time, over HTTP,
// on every store that keeps history.
func TestAsOf(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) { testAsOf(t, pastServer(t, st.open)) })
	}
}

func testAsOf(t *testing.T, p past) {
	u := p.srv.URL + "/collections/parcels"

	t.Run("items", func(t *testing.T) {
		for _, c := range []struct {
			at   time.Time
			want map[string]any
		}{{p.t0, p.items0}, {p.t1, nil}, {p.t2, p.items2}} {
			r := get(t, u+"/items?as-of="+rfc(c.at))
			if r.StatusCode != 200 {
				t.Fatalf("items as of %s = %d %s", c.at, r.StatusCode, r.body)
			}
			fc := r.json(t)
			if c.want != nil && featuresJSON(fc) != featuresJSON(c.want) {
				t.Errorf("items as of %s =\n%s\nwant, as served then,\n%s", c.at, featuresJSON(fc), featuresJSON(c.want))
			}
			if md, err := http.ParseTime(r.Header.Get("Memento-Datetime")); err != nil || !md.Equal(c.at.Truncate(time.Second)) {
				t.Errorf("items as of %s: Memento-Datetime %q", c.at, r.Header.Get("Memento-Datetime"))
			}
			if !slices.Contains(r.Header.Values("Vary"), "Accept-Datetime") {
				t.Errorf("items as of %s: Vary %v, want Accept-Datetime among them", c.at, r.Header.Values("Vary"))
			}
		}
		if got := ids(t, get(t, u+"/items?as-of="+rfc(p.t1)).json(t)); !slices.Equal(got, []float64{1, 3, 7}) {
			t.Errorf("ids as of t1 = %v, want 1 3 7", got)
		}
		if got := ids(t, get(t, u+"/items?as-of="+rfc(p.t2)).json(t)); !slices.Equal(got, []float64{1, 7}) {
			t.Errorf("ids as of t2 (3 deleted) = %v, want 1 7", got)
		}
		fc := get(t, u+"/items?as-of="+rfc(p.before)).json(t)
		if fc["numberMatched"] != 0.0 || len(fc["features"].([]any)) != 0 {
			t.Errorf("items before the layer existed: %v matched, %d features; want none", fc["numberMatched"], len(fc["features"].([]any)))
		}
		// The filters apply to the features as they were.
		fc = get(t, u+"/items?status=planned&as-of="+rfc(p.t0)).json(t)
		if got := ids(t, fc); !slices.Equal(got, []float64{1}) || fc["numberMatched"] != 1.0 {
			t.Errorf("status=planned as of t0: %v (%v matched), want parcel 1", got, fc["numberMatched"])
		}
		if got := get(t, u+"/items?status=planned").json(t)["numberMatched"]; got != 0.0 {
			t.Errorf("status=planned now: %v matched, want 0", got)
		}
		fc = get(t, u+"/items?limit=1&offset=1&as-of="+rfc(p.t0)).json(t)
		if got := ids(t, fc); !slices.Equal(got, []float64{3}) || fc["numberMatched"] != 3.0 {
			t.Errorf("limit=1&offset=1 as of t0: %v of %v, want 3 of 3", got, fc["numberMatched"])
		}
		next := ""
		for _, l := range fc["links"].([]any) {
			if l.(map[string]any)["rel"] == "next" {
				next = l.(map[string]any)["href"].(string)
			}
		}
		if !strings.Contains(next, "as-of=") {
			t.Errorf("the next page's link %q loses as-of", next)
		}
	})

	t.Run("feature", func(t *testing.T) {
		r := get(t, u+"/items/3?as-of="+rfc(p.t1))
		if r.StatusCode != 200 || r.json(t)["properties"].(map[string]any)["status"] != "signed" {
			t.Errorf("parcel 3 as of t1 = %d %s", r.StatusCode, r.body)
		}
		if r := get(t, u+"/items/3?as-of="+rfc(p.t2)); r.StatusCode != http.StatusGone {
			t.Errorf("parcel 3 as of t2, after its delete = %d %s, want 410", r.StatusCode, r.body)
		}
		if r := get(t, u+"/items/1?as-of="+rfc(p.before)); r.StatusCode != http.StatusNotFound {
			t.Errorf("parcel 1 before the import = %d %s, want 404", r.StatusCode, r.body)
		}
		then := get(t, u+"/items/1?as-of="+rfc(p.t0))
		now := get(t, u+"/items/1")
		if then.json(t)["properties"].(map[string]any)["status"] != "planned" || now.json(t)["properties"].(map[string]any)["status"] != "under_construction" {
			t.Errorf("parcel 1 as of t0 / now: %s / %s", then.body, now.body)
		}
		if then.Header.Get("ETag") == "" || then.Header.Get("ETag") == now.Header.Get("ETag") {
			t.Errorf("ETag as of t0 %q, now %q: want distinct", then.Header.Get("ETag"), now.Header.Get("ETag"))
		}
		// A time within the last minute may yet gain a write made in it.
		if cc := then.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("Cache-Control as of a few seconds ago = %q, want no-cache", cc)
		}
		if cc := get(t, u+"/items/1?as-of=2020-01-01T00:00:00Z").Header.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
			t.Errorf("Cache-Control as of 2020 = %q, want a max-age", cc)
		}
		if r := get(t, u+"/items/1?as-of="+rfc(p.t0), "If-None-Match", then.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
			t.Errorf("revalidating parcel 1 as of t0 = %d, want 304", r.StatusCode)
		}
		if r := get(t, u+"/items/1", "If-None-Match", then.Header.Get("ETag")); r.StatusCode != 200 {
			t.Errorf("the ETag of the past for the present = %d, want 200", r.StatusCode)
		}
	})

	t.Run("Accept-Datetime", func(t *testing.T) {
		hd := p.t0.UTC().Format(http.TimeFormat)
		r := get(t, u+"/items/1", "Accept-Datetime", hd)
		if r.StatusCode != 200 || r.json(t)["properties"].(map[string]any)["status"] != "planned" {
			t.Errorf("parcel 1 with Accept-Datetime %s = %d %s, want it planned", hd, r.StatusCode, r.body)
		}
		if r.Header.Get("Memento-Datetime") != hd {
			t.Errorf("Memento-Datetime = %q, want %q", r.Header.Get("Memento-Datetime"), hd)
		}
		now := get(t, u+"/items/1")
		if r.Header.Get("ETag") == now.Header.Get("ETag") {
			t.Errorf("the ETag with Accept-Datetime is the present's, %s", r.Header.Get("ETag"))
		}
		if !slices.Contains(now.Header.Values("Vary"), "Accept-Datetime") || now.Header.Get("Memento-Datetime") != "" {
			t.Errorf("the present: Vary %v, Memento-Datetime %q; want Accept-Datetime varied, no Memento-Datetime", now.Header.Values("Vary"), now.Header.Get("Memento-Datetime"))
		}
		fc := get(t, u+"/items", "Accept-Datetime", hd).json(t)
		if featuresJSON(fc) != featuresJSON(p.items0) {
			t.Errorf("items with Accept-Datetime %s are not those served then", hd)
		}
		if r := get(t, u+"/items", "Accept-Datetime", "yesterday"); r.StatusCode != 400 {
			t.Errorf("Accept-Datetime: yesterday = %d, want 400", r.StatusCode)
		}
	})

	t.Run("bad values", func(t *testing.T) {
		for _, q := range []string{"/items?as-of=yesterday", "/items/1?as-of=2026-13-01T00:00:00Z", "/stats?as-of=", "/items?as-of=2026-01-01T00:00:00Z&as-of=2026-01-02T00:00:00Z",
			"/stats?groupby=status&compare=" + rfc(p.t2) + "&as-of=" + rfc(p.t1), "/stats?compare=soon"} {
			if r := get(t, u+q); r.StatusCode != 400 || r.Header.Get("Content-Type") != "application/problem+json" && !strings.Contains(r.Header.Get("Content-Type"), "json") {
				t.Errorf("GET %s = %d %s, want 400 JSON", q, r.StatusCode, r.body)
			}
		}
	})

	t.Run("stats", func(t *testing.T) {
		d := getStats(t, u+"/stats?groupby=status&as-of="+rfc(p.t0))
		got := map[any]int{}
		for _, g := range d.Groups {
			got[g.Key] = g.Count
		}
		if want := map[any]int{"planned": 1, "signed": 1, "in_operation": 1}; !maps.Equal(got, want) {
			t.Errorf("stats by status as of t0 = %v, want %v", got, want)
		}
		d = getStats(t, u+"/stats?groupby=status&as-of="+rfc(p.before))
		if d.Total.Count != 0 || len(d.Groups) != 0 {
			t.Errorf("stats before the import: %+v", d.Total)
		}
		// The district's statistics as of t0 are those served at t0.
		then := getStats(t, p.srv.URL+"/stats?as-of="+rfc(p.t0))
		if then.AsOf == nil || !then.AsOf.Equal(p.t0) {
			t.Errorf("/stats as of t0 says asOf %v", then.AsOf)
		}
		then.Links, p.districtStats0.Links, then.AsOf = nil, nil, nil
		a, _ := json.Marshal(then)
		b, _ := json.Marshal(p.districtStats0)
		if !bytes.Equal(a, b) {
			t.Errorf("/stats as of t0 =\n%s\nwant, as served then,\n%s", a, b)
		}
	})

	t.Run("openapi", func(t *testing.T) {
		var doc struct {
			Paths map[string]struct {
				Get struct {
					Parameters []struct {
						Ref string `json:"$ref"`
					}
					Responses map[string]json.RawMessage
				}
			}
		}
		if err := json.Unmarshal(get(t, p.srv.URL+"/api").body, &doc); err != nil {
			t.Fatal(err)
		}
		for path, want := range map[string][]string{
			"/collections/parcels/items":             {"asOf", "acceptDatetime"},
			"/collections/parcels/items/{featureId}": {"asOf", "acceptDatetime"},
			"/collections/parcels/stats":             {"asOf", "acceptDatetime", "compare"},
			"/stats":                                 {"asOf", "acceptDatetime"},
		} {
			var refs []string
			for _, p := range doc.Paths[path].Get.Parameters {
				refs = append(refs, strings.TrimPrefix(p.Ref, "#/components/parameters/"))
			}
			for _, w := range want {
				if !slices.Contains(refs, w) {
					t.Errorf("the OpenAPI GET %s lacks %s: %v", path, w, refs)
				}
			}
		}
		if _, ok := doc.Paths["/collections/parcels/items/{featureId}"].Get.Responses["410"]; !ok {
			t.Errorf("the OpenAPI feature path does not declare 410")
		}
	})

	t.Run("compare", func(t *testing.T) {
		r := get(t, u+"/stats?groupby=status&compare="+rfc(p.t0)+"&as-of="+rfc(p.t2))
		if r.StatusCode != 200 {
			t.Fatalf("compare = %d %s", r.StatusCode, r.body)
		}
		var d struct {
			Comparison struct {
				Groups []struct {
					Key                    any
					Earlier, Later, Change statsRow
				}
				Total       struct{ Earlier, Later, Change statsRow }
				Transitions []struct {
					From, To any
					statsRow
				}
			}
		}
		if err := json.Unmarshal(r.body, &d); err != nil {
			t.Fatal(err)
		}
		type counts struct{ earlier, later, change int }
		got := map[any]counts{}
		for _, g := range d.Comparison.Groups {
			got[g.Key] = counts{g.Earlier.Count, g.Later.Count, g.Change.Count}
		}
		want := map[any]counts{"planned": {1, 0, -1}, "signed": {1, 0, -1}, "in_operation": {1, 1, 0}, "under_construction": {0, 1, 1}}
		if !maps.Equal(got, want) {
			t.Errorf("compared groups = %v, want %v", got, want)
		}
		for _, g := range d.Comparison.Groups {
			if g.Key == "planned" && math.Abs(*g.Change.AreaM2+p.area1t0) > 0.1 {
				t.Errorf("planned lost %v m², want parcel 1's %v", *g.Change.AreaM2, p.area1t0)
			}
		}
		tr := d.Comparison.Transitions
		if len(tr) != 1 || tr[0].From != "planned" || tr[0].To != "under_construction" || tr[0].Count != 1 ||
			math.Abs(*tr[0].AreaM2-p.parcelArea1) > 0.1 || math.Abs(*tr[0].AreaMu-p.parcelArea1*15/1e4) > 0.01 {
			t.Errorf("transitions = %+v, want parcel 1 (%v m²) from planned to under_construction", tr, p.parcelArea1)
		}
		if d.Comparison.Total.Change.Count != -1 {
			t.Errorf("total change = %d, want -1 (parcel 3 deleted)", d.Comparison.Total.Change.Count)
		}

		r = get(t, u+"/stats?groupby=status&f=csv&compare="+rfc(p.t0)+"&as-of="+rfc(p.t2))
		if r.StatusCode != 200 || !bytes.HasPrefix(r.body, []byte("\ufeff")) {
			t.Fatalf("compare as CSV = %d, BOM %v", r.StatusCode, bytes.HasPrefix(r.body, []byte("\ufeff")))
		}
		cr := csv.NewReader(bytes.NewReader(r.body[3:]))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var found bool
		for _, rec := range recs {
			if len(rec) > 2 && rec[0] == "planned" && rec[1] == "under_construction" {
				found = rec[2] == "1"
			}
		}
		if !found {
			t.Errorf("the CSV has no transition planned → under_construction of 1 feature:\n%s", r.body)
		}
	})

	// Grouped by two fields, a transition is from one pair to another.
	t.Run("compare by two fields", func(t *testing.T) {
		q := u + "/stats?groupby=status,public&compare=" + rfc(p.t0) + "&as-of=" + rfc(p.t2)
		r := get(t, q)
		var d struct {
			Comparison struct {
				Transitions []struct {
					From, To []any
					statsRow
				}
			}
		}
		if err := json.Unmarshal(r.body, &d); err != nil || r.StatusCode != 200 {
			t.Fatalf("compare by two fields = %d %v %s", r.StatusCode, err, r.body)
		}
		tr := d.Comparison.Transitions
		if len(tr) != 1 || len(tr[0].From) != 2 || len(tr[0].To) != 2 || tr[0].From[0] != "planned" || tr[0].To[0] != "under_construction" ||
			tr[0].From[1] != tr[0].To[1] || tr[0].Count != 1 {
			t.Errorf("transitions by status and public = %+v, want parcel 1 from [planned x] to [under_construction x]", tr)
		}
		r = get(t, q+"&f=csv")
		cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff"))))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil || r.StatusCode != 200 || len(recs) == 0 || recs[0][0] != "status" || recs[0][1] != "public" {
			t.Fatalf("compare by two fields as CSV = %d %v:\n%s", r.StatusCode, err, r.body)
		}
		var found bool
		for _, rec := range recs {
			if len(rec) > 4 && rec[0] == "planned" && rec[2] == "under_construction" && rec[1] == rec[3] {
				found = rec[4] == "1"
			}
		}
		if !found {
			t.Errorf("the CSV has no transition (planned, x) → (under_construction, x) of 1 feature:\n%s", r.body)
		}
	})
}

// TestAsOfDropped: a layer dropped is read as of a time it existed, from
// the history, over HTTP: its items with filters and paging, one feature
// (410 once deleted), its statistics; after the drop and before its
// creation it is 404 with a message that says why.
func TestAsOfDropped(t *testing.T) {
	for _, st := range servedStores {
		t.Run(st.name, func(t *testing.T) {
			before := tick()
			c := cache.New(st.open(t), cache.DefaultBudget)
			srv := httptest.NewServer(web.NewRouter(c, web.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
			t.Cleanup(srv.Close)
			u := srv.URL + "/collections/parcels"
			t0 := tick()
			items0 := get(t, u+"/items").json(t)
			one0 := get(t, u+"/items/1").json(t)
			stats0 := getStats(t, u+"/stats?groupby=status")
			if err := c.Delete(ctx, "parcels", 3, "", layers.Edit{Author: "bob"}); err != nil {
				t.Fatal(err)
			}
			t1 := tick()
			if err := c.DropLayer(ctx, "parcels", layers.Edit{Author: "admin"}); err != nil {
				t.Fatalf("DropLayer(parcels): %v", err)
			}
			after := tick()
			if r := get(t, u+"/items"); r.StatusCode != http.StatusNotFound {
				t.Fatalf("items now, after the drop = %d %s, want 404", r.StatusCode, r.body)
			}

			r := get(t, u+"/items?as-of="+rfc(t0))
			if r.StatusCode != 200 {
				t.Fatalf("items as of t0 = %d %s, want 200", r.StatusCode, r.body)
			}
			fc := r.json(t)
			if featuresJSON(fc) != featuresJSON(items0) || fc["numberMatched"] != items0["numberMatched"] {
				t.Errorf("items as of t0 (%v matched) =\n%s\nwant, as served then (%v matched),\n%s", fc["numberMatched"], featuresJSON(fc), items0["numberMatched"], featuresJSON(items0))
			}
			if r.Header.Get("Memento-Datetime") == "" {
				t.Errorf("items as of t0 of the dropped layer: no Memento-Datetime")
			}
			if got := ids(t, get(t, u+"/items?as-of="+rfc(t1)).json(t)); !slices.Equal(got, []float64{1, 7}) {
				t.Errorf("ids as of t1 (3 deleted) = %v, want 1 7", got)
			}
			fc = get(t, u+"/items?status=planned&as-of="+rfc(t0)).json(t)
			if got := ids(t, fc); !slices.Equal(got, []float64{1}) || fc["numberMatched"] != 1.0 {
				t.Errorf("status=planned as of t0: %v (%v matched), want parcel 1", got, fc["numberMatched"])
			}
			fc = get(t, u+"/items?limit=1&offset=1&as-of="+rfc(t0)).json(t)
			if got := ids(t, fc); !slices.Equal(got, []float64{3}) || fc["numberMatched"] != 3.0 {
				t.Errorf("limit=1&offset=1 as of t0: %v of %v, want 3 of 3", got, fc["numberMatched"])
			}
			if r := get(t, u+"/items?nosuchfield=1&as-of="+rfc(t0)); r.StatusCode != 400 {
				t.Errorf("an unknown property as of t0 = %d %s, want 400: the past declaration checks the query", r.StatusCode, r.body)
			}

			r = get(t, u+"/items/1?as-of="+rfc(t0))
			if r.StatusCode != 200 {
				t.Fatalf("parcel 1 as of t0 = %d %s", r.StatusCode, r.body)
			}
			got, _ := json.Marshal([]any{r.json(t)["properties"], r.json(t)["geometry"]})
			want, _ := json.Marshal([]any{one0["properties"], one0["geometry"]})
			if !bytes.Equal(got, want) {
				t.Errorf("parcel 1 as of t0 = %s, want as served then: %s", got, want)
			}
			// The versions of a dropped layer's features are not served:
			// nothing may point there.
			if strings.Contains(string(r.body), "/versions") {
				t.Errorf("parcel 1 as of t0 of the dropped layer links to its versions, which are 404:\n%s", r.body)
			}
			if r := get(t, u+"/items/3?as-of="+rfc(t1)); r.StatusCode != http.StatusGone || strings.Contains(string(r.body), "/versions") || !strings.Contains(string(r.body), "was dropped at") {
				t.Errorf("parcel 3 as of t1, after its delete = %d %s, want 410 saying the layer was dropped, with no link to versions", r.StatusCode, r.body)
			}
			if r := get(t, u+"/items/999?as-of="+rfc(t0)); r.StatusCode != http.StatusNotFound {
				t.Errorf("parcel 999 as of t0 = %d %s, want 404", r.StatusCode, r.body)
			}

			d := getStats(t, u+"/stats?groupby=status&as-of="+rfc(t0))
			d.Links, stats0.Links, d.AsOf, stats0.AsOf = nil, nil, nil, nil
			a, _ := json.Marshal(d)
			b, _ := json.Marshal(stats0)
			if !bytes.Equal(a, b) {
				t.Errorf("stats as of t0 =\n%s\nwant, as served then,\n%s", a, b)
			}

			for _, c := range []struct {
				name, path string
				header     []string
				says       string
			}{
				{"items after the drop", "/items?as-of=" + rfc(after), nil, "was dropped at"},
				{"a feature after the drop", "/items/1?as-of=" + rfc(after), nil, "was dropped at"},
				{"stats after the drop", "/stats?as-of=" + rfc(after), nil, "was dropped at"},
				{"Accept-Datetime after the drop", "/items", []string{"Accept-Datetime", time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)}, "was dropped at"},
				{"items before the creation", "/items?as-of=" + rfc(before), nil, "did not exist"},
			} {
				r := get(t, u+c.path, c.header...)
				if r.StatusCode != http.StatusNotFound || !strings.Contains(string(r.body), c.says) {
					t.Errorf("%s: GET %s = %d %s, want 404 saying %q", c.name, c.path, r.StatusCode, r.body, c.says)
				}
			}
		})
	}
}

// TestAsOfRedeclared asks about a time before a layer lost a field (an
// import with --replace and another schema): the answer, its query's
// properties and its statistics are in the declaration of then.
func TestAsOfRedeclared(t *testing.T) {
	onEachLoaded(t, testFiles, func(t *testing.T, s loadedStore) {
		c := cache.New(s, cache.DefaultBudget)
		srv := httptest.NewServer(web.NewRouter(c, web.Options{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
		t.Cleanup(srv.Close)
		u := srv.URL + "/collections/parcels"
		t0 := tick()
		items0 := get(t, u+"/items").json(t)
		if !strings.Contains(featuresJSON(items0), `"berths"`) {
			t.Fatalf("parcels are served without berths:\n%s", featuresJSON(items0))
		}

		data, err := os.ReadFile("../layers/testdata/parcels.geojson")
		if err != nil {
			t.Fatal(err)
		}
		noBerths := regexp.MustCompile(`"berths": [0-9]+, |\s*\{"name": "berths"[^\n]*\n`).ReplaceAll(data, nil)
		f, err := layers.ParseFile("parcels.geojson", noBerths)
		if err != nil || bytes.Contains(noBerths, []byte("berths")) {
			t.Fatalf("the layer file without berths: %v\n%s", err, noBerths)
		}
		if _, err := s.Import(ctx, []*layers.File{f}, layers.ImportOptions{Replace: true}); err != nil {
			t.Fatalf("Import --replace without berths: %v", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for strings.Contains(featuresJSON(get(t, u+"/items").json(t)), `"berths"`) {
			if time.Now().After(deadline) {
				t.Fatal("parcels still served with berths 10 s after the import")
			}
			time.Sleep(20 * time.Millisecond)
		}

		if got := featuresJSON(get(t, u+"/items?as-of="+rfc(t0)).json(t)); got != featuresJSON(items0) {
			t.Errorf("items as of t0 =\n%s\nwant, as served then,\n%s", got, featuresJSON(items0))
		}
		if r := get(t, u+"/items?berths=8&as-of="+rfc(t0)); r.StatusCode != 200 {
			t.Errorf("berths=8 as of t0 = %d %s, want 200: the field was there then", r.StatusCode, r.body)
		} else if fc := r.json(t); !slices.Equal(ids(t, fc), []float64{1}) || fc["numberMatched"] != 1.0 {
			t.Errorf("berths=8 as of t0: %v (%v matched), want parcel 1", ids(t, fc), fc["numberMatched"])
		}
		if r := get(t, u+"/items?berths=8"); r.StatusCode != http.StatusBadRequest {
			t.Errorf("berths=8 now, the field gone = %d %s, want 400", r.StatusCode, r.body)
		}
		if r := get(t, u+"/items/1?as-of="+rfc(t0)); r.StatusCode != 200 || !strings.Contains(string(r.body), `"berths":8`) {
			t.Errorf("parcel 1 as of t0 = %d %s, want its berths 8", r.StatusCode, r.body)
		}
	})
}
