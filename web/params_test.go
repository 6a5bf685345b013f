package web

import (
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"

	"planmap/layers"
)

// refused fails unless err is a coded EINVALID error, the kind the router
// turns into a 400 with a message for the client.
func refused(t *testing.T, call string, err error) {
	t.Helper()
	if code := layers.ErrorCode(err); code != layers.EINVALID {
		t.Fatalf("%s = %v (code %q), want an %s error", call, err, code, layers.EINVALID)
	}
	if len(err.Error()) < 20 {
		t.Fatalf("%s: message %q says too little", call, err)
	}
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// FuzzBBox checks that a bbox is either refused as invalid or is 4 or 6
// finite numbers that make one box, or two at the antimeridian, south of
// north, in CRS84 range when its CRS is geographic.
func FuzzBBox(f *testing.F) {
	for _, s := range [][2]string{
		{"121.485,32.115,121.486,32.116", ""},
		// GDAL prints bbox with %.18g (TESTING.md §1).
		{"0.5,0.200000000000000011,1.5,0.800000000000000044", ""},
		{"32.115,121.485,32.116,121.486", "http://www.opengis.net/def/crs/EPSG/0/4326"},
		{"13523600,3778500,13523700,3778600", "http://www.opengis.net/def/crs/EPSG/0/3857"},
		{"177,65,-177,70", crs84}, // the OGC test suite's antimeridian box
		{"-180,-90,180,90", "EPSG:4490"},
		{"121.485,32.115,0,121.486,32.116,100", "[OGC:CRS84]"},
		{"0x1p-2,32,122,33", ""}, {"NaN,32,122,33", ""}, {"121,32,Inf,33", ""}, {"1e400,32,122,33", ""},
		{"", ""}, {"1,2,3", ""}, {" 121 , 32 ,122,33", ""}, {"121,33,122,32", ""}, {"1,2,3,4", "EPSG:2385"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, v, crs string) {
		boxes, err := parseBBox(v, true, crs)
		if err != nil {
			refused(t, "parseBBox("+v+", "+crs+")", err)
			return
		}
		parts := strings.Split(v, ",")
		if len(parts) != 4 && len(parts) != 6 {
			t.Fatalf("parseBBox(%q) took %d numbers", v, len(parts))
		}
		for _, p := range parts {
			if n, ok := parseNumber(strings.TrimSpace(p)); !ok || !finite(n) {
				t.Fatalf("parseBBox(%q) took %q, not a finite number", v, p)
			}
		}
		c, err := parseCRS("bbox-crs", crs)
		if err != nil {
			t.Fatalf("parseBBox(%q, %q) took a CRS parseCRS refuses: %v", v, crs, err)
		}
		if len(boxes) != 1 && (len(boxes) != 2 || !c.geographic) {
			t.Fatalf("parseBBox(%q, %q) = %d boxes", v, crs, len(boxes))
		}
		for _, b := range boxes {
			if !finite(b.Min[0], b.Min[1], b.Max[0], b.Max[1]) || b.Min[1] > b.Max[1] || b.Min[0] > b.Max[0] {
				t.Fatalf("parseBBox(%q, %q) = %v", v, crs, boxes)
			}
			if b.Min[1] < -90 || b.Max[1] > 90 || c.geographic && (b.Min[0] < -180 || b.Max[0] > 180) {
				t.Fatalf("parseBBox(%q, %q) = %v, outside CRS84", v, crs, boxes)
			}
		}
	})
}

// FuzzCRS checks that a crs or bbox-crs is one of the CRSs served or is
// refused.
func FuzzCRS(f *testing.F) {
	for _, s := range append(crsURIs(), "", "EPSG:4326", "epsg:3857", "[EPSG:4490]", "OGC:CRS84", "CRS84", "EPSG:2385", "urn:ogc:def:crs:EPSG::4326") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		c, err := parseCRS("crs", v)
		if err != nil {
			refused(t, "parseCRS("+v+")", err)
			return
		}
		if !slices.Contains(crsURIs(), c.uri) {
			t.Fatalf("parseCRS(%q) = %q, not a CRS served", v, c.uri)
		}
	})
}

// FuzzLimitOffset checks that limit and offset are whole numbers in range
// or refused.
func FuzzLimitOffset(f *testing.F) {
	for _, s := range []string{"", "1", "10", "100", "1000", "10000", "20000", "99999999999999999999", "0", "-1", "+5", "1.0", "unlimited", " 5", "0x10", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		digits := v != "" && strings.Trim(v, "0123456789") == ""
		n, err := parseLimit(v, defaultLimit, maxLimit)
		switch {
		case err != nil:
			refused(t, "parseLimit("+v+")", err)
		case n < 1 || n > maxLimit || (v != "" && !digits):
			t.Fatalf("parseLimit(%q) = %d", v, n)
		}
		n, err = parseCountParam("offset", v)
		switch {
		case err != nil:
			refused(t, "parseCountParam(offset, "+v+")", err)
		case n < 0 || (v != "" && !digits):
			t.Fatalf("parseCountParam(offset, %q) = %d", v, n)
		}
	})
}

// FuzzDatetime checks that a datetime is an instant or an interval that
// does not end before it starts, or is refused.
func FuzzDatetime(f *testing.F) {
	for _, s := range []string{
		"2024-05-01T08:00:00Z", "2024-05-01T08:00:00.123+08:00", "2024-05-01", "2024-01-01T00:00:00Z/2024-02-01T00:00:00Z",
		"../2024-05-01T00:00:00Z", "2024-01-01T00:00:00Z/..", "2024-01-01/", "/", "../..", "",
		"yesterday", "2024-13-01", "2024-02-01/2024-01-01", "2024-01-01/2024-02-01/2024-03-01",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		iv, err := parseDatetime(v)
		if err != nil {
			refused(t, "parseDatetime("+v+")", err)
			return
		}
		if !strings.Contains(v, "/") && (iv.start.IsZero() || !iv.start.Equal(iv.end)) {
			t.Fatalf("parseDatetime(%q) = %v, want an instant", v, iv)
		}
		if !iv.start.IsZero() && !iv.end.IsZero() && iv.end.Before(iv.start) {
			t.Fatalf("parseDatetime(%q) = %v ends before it starts", v, iv)
		}
	})
}

// parcels is a collection with a field of every type, for the query
// parser.
var parcels = &layers.Collection{Layer: &layers.Layer{ID: "parcels", Schema: []layers.Field{
	{Name: "name_zh", Type: layers.String},
	{Name: "status", Type: layers.String, Values: []string{"planned", "signed", "under_construction", "in_operation"}},
	{Name: "berths", Type: layers.Integer},
	{Name: "area_mu", Type: layers.Number},
	{Name: "public", Type: layers.Boolean},
	{Name: "opened", Type: layers.Date},
	{Name: "surveyed", Type: layers.DateTime},
}}}

// FuzzItemsQuery runs whole query strings through what the items route
// does with them: a query that does not parse is refused before any
// handler (checkQuery); one that parses is refused as invalid, or gives a
// page in range and filters that name a field, with a value of its type.
func FuzzItemsQuery(f *testing.F) {
	for _, s := range []string{
		"limit=10", "limit=2&offset=2", "limit=1000&bbox=121.4,32.0,121.6,32.2&bbox-crs=" + url.QueryEscape(crs84),
		"status=signed&berths=8&public=true&area_mu=575.5&opened=2021-09-26&surveyed=2020-11-02T08:30:00%2B08:00",
		"name_zh=%E4%B8%80%E5%8F%B7%E5%9C%B0%E5%9D%97", "datetime=2024-01-01T00:00:00Z%2F..", "f=html&crs=EPSG:3857",
		"status=signed%zz", "bbox=%zz", "limit=1;offset=2", "status=dreamt", "area_mu=NaN", "berths=0x10", "limit=5&limit=6", "bbox=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // checkQuery's 400; TestMalformedQuery covers every route
		}
		iq, err := parseItems(q, parcels)
		if err != nil {
			refused(t, "parseItems("+raw+")", err)
			return
		}
		if iq.limit < 1 || iq.limit > maxLimit || iq.offset < 0 {
			t.Fatalf("parseItems(%q): limit %d, offset %d", raw, iq.limit, iq.offset)
		}
		for name, v := range iq.filter.Equals {
			fd := parcels.Field(name)
			if fd == nil || len(q[name]) != 1 {
				t.Fatalf("parseItems(%q) filters on %q, given %d times", raw, name, len(q[name]))
			}
			ok := false
			switch fd.Type {
			case layers.Integer:
				_, ok = v.(int64)
			case layers.Number:
				n, isFloat := v.(float64)
				ok = isFloat && finite(n)
			case layers.Boolean:
				_, ok = v.(bool)
			default:
				s, isString := v.(string)
				ok = isString && (len(fd.Values) == 0 || slices.Contains(fd.Values, s))
			}
			if !ok {
				t.Fatalf("parseItems(%q): %s = %#v, not a %s value", raw, name, v, fd.Type)
			}
		}
	})
}

// TestItemsParamsAreReserved checks that no layer field can be named like a
// parameter of the items: it would be read as both.
func TestItemsParamsAreReserved(t *testing.T) {
	for _, p := range itemsParams {
		if p != "bbox-crs" && !slices.Contains(layers.QueryParams, p) {
			t.Errorf("items parameter %q is not in layers.QueryParams, so a layer may have a field of that name", p)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for v, want := range map[string]bool{
		"1": true, "-1.5": true, "+.5": true, "5.": true, "1e3": true, "1E-3": true, "0.200000000000000011": true, "121.485": true,
		"": false, ".": false, "-": false, "e3": false, "1e": false, "1e+": false, "0x1p-2": false, "0x10": false, "1_000": false,
		"NaN": false, "nan": false, "Inf": false, "-Inf": false, "Infinity": false, "+infinity": false, "1e400": false, " 1": false, "1,5": false,
	} {
		if _, ok := parseNumber(v); ok != want {
			t.Errorf("parseNumber(%q) ok = %v, want %v", v, ok, want)
		}
	}
}

func TestAcceptQ(t *testing.T) {
	for _, tt := range []struct {
		accept      string
		html, jsonQ float64
	}{
		{"", 0, 0},
		{"text/html", 1, 0},
		{"application/geo+json", 0, 1},
		// What browsers send.
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 1, 0},
		{"application/json;q=0.9, TEXT/HTML ; q=0.5", 0.5, 0.9},
		{"text/html;level=1;q=0.3;x=y,application/schema+json;", 0.3, 1},
		{"text/html;q=0.2,text/html;q=0.7", 0.7, 0},
		{"text/html;q=bad", 1, 0},
		{",;,text/html;;q=0.4", 0.4, 0},
	} {
		if html, jsonQ := acceptQ(tt.accept); html != tt.html || jsonQ != tt.jsonQ {
			t.Errorf("acceptQ(%q) = %v, %v; want %v, %v", tt.accept, html, jsonQ, tt.html, tt.jsonQ)
		}
	}
}
