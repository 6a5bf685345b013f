package web

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/layers"
)

func TestTagMatches(t *testing.T) {
	const v = "1x2y3z"
	for _, tc := range []struct {
		name, tag string
		want      bool
	}{
		{"Strong", `"1x2y3z"`, true},
		{"Weak", `W/"1x2y3z"`, true},
		{"ApacheGzip", `"1x2y3z-gzip"`, true},
		{"ApacheBrotli", `"1x2y3z-br"`, true},
		{"NginxGzip", `"1x2y3z;gzip"`, true},
		{"WeakWithSuffix", `W/"1x2y3z-gzip"`, true},
		{"Longer", `"1x2y3z9"`, false},
		{"Shorter", `"1x2y3"`, false},
		{"Unquoted", `1x2y3z`, false},
		{"Empty", `""`, false},
		{"OtherSuffix", `"1x2y3z_gzip"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tagMatches(tc.tag, v); got != tc.want {
				t.Errorf("tagMatches(%s, %s) = %t, want %t", tc.tag, v, got, tc.want)
			}
		})
	}
}

func TestIfMatch(t *testing.T) {
	l := &layers.Layer{ID: "x", GeometryType: "Point"}
	cur := layers.NewItem(l, layers.Feature{ID: 1, Properties: map[string]any{}, Geometry: orb.Point{121.5, 32.1}})
	v := cur.Version()
	for _, tc := range []struct {
		name    string
		headers []string
		cur     *layers.Item
		want    string
		code    string
	}{
		{"Absent", nil, cur, "", ""},
		{"AbsentNoFeature", nil, nil, "", ""},
		{"Same", []string{`"` + v + `"`}, cur, v, ""},
		{"Star", []string{"*"}, cur, v, ""},
		{"List", []string{`"abc", W/"` + v + `-gzip"`}, cur, v, ""},
		{"TwoHeaders", []string{`"abc"`, `"` + v + `"`}, cur, v, ""},
		{"Stale", []string{`"abc"`}, cur, "", layers.EPRECONDITION},
		{"StarNoFeature", []string{"*"}, nil, "", layers.EPRECONDITION},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("PUT", "/", nil)
			for _, h := range tc.headers {
				r.Header.Add("If-Match", h)
			}
			w := httptest.NewRecorder()
			got, err := ifMatch(w, r, tc.cur)
			if got != tc.want || (err == nil) != (tc.code == "") || (err != nil && layers.ErrorCode(err) != tc.code) {
				t.Fatalf("ifMatch(%q) = %q, %v; want %q, code %q", tc.headers, got, err, tc.want, tc.code)
			}
			if tc.code != "" && tc.cur != nil && w.Header().Get("ETag") != `"`+v+`"` {
				t.Errorf("412 carries ETag %q, want the current one", w.Header().Get("ETag"))
			}
		})
	}
}

// TestMergePatch runs the examples of RFC 7396, appendix A.
func TestMergePatch(t *testing.T) {
	for _, tc := range []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	} {
		var target, patch, want any
		for _, d := range []struct {
			s string
			v *any
		}{{tc.target, &target}, {tc.patch, &patch}, {tc.want, &want}} {
			if err := json.Unmarshal([]byte(d.s), d.v); err != nil {
				t.Fatal(err)
			}
		}
		if got := mergePatch(target, patch); !reflect.DeepEqual(got, want) {
			t.Errorf("merge %s into %s = %v, want %s", tc.patch, tc.target, got, tc.want)
		}
	}
}

func TestEditNote(t *testing.T) {
	p := &layers.Principal{Name: "ann", Role: layers.RoleEditor}
	for _, tc := range []struct {
		name, header, want string
		bad                bool
	}{
		{"None", "", "", false},
		{"Plain", "moved the gate", "moved the gate", false},
		{"RawUTF8", "东灶港站 moved", "东灶港站 moved", false},
		{"PercentEncoded", "%E4%B8%9C%E7%81%B6%E6%B8%AF%20moved%2050%25", "东灶港 moved 50%", false},
		{"LiteralPercent", "cut by 50%", "cut by 50%", false},
		{"Trimmed", "  note  ", "note", false},
		{"Newline", "line one%0Aline two", "line one\nline two", false},
		{"ControlCharacter", "bell%07", "", true},
		{"NotUTF8", "\xff\xfe", "", true},
		{"EncodedNotUTF8", "%FF%FE", "", true},
		{"TooLong", strings.Repeat("长", maxNote/3+1), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", nil)
			if tc.header != "" {
				r.Header.Set("Planmap-Note", tc.header)
			}
			e, err := edit(r, p)
			if tc.bad {
				if layers.ErrorCode(err) != layers.EINVALID {
					t.Fatalf("note %q: %+v, %v; want an EINVALID error", tc.header, e, err)
				}
				return
			}
			if err != nil || e.Note != tc.want || e.Author != "ann" {
				t.Fatalf("note %q: %+v, %v; want note %q by ann", tc.header, e, err, tc.want)
			}
		})
	}
}

func TestDecodeFeature(t *testing.T) {
	point := func(lon, lat float64) string {
		b, _ := json.Marshal([]float64{lon, lat})
		return `{"type":"Feature","properties":{"name_zh":"站","geodesic_area_m2":12.5,"geodesic_length_m":3},"geometry":{"type":"Point","coordinates":` + string(b) + `}}`
	}
	crs := func(uri string) crsInfo {
		c, err := parseCRS("crs", uri)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("MeasuresDropped", func(t *testing.T) {
		f, err := decodeFeature([]byte(point(121.5, 32.1)), crs(""), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Properties) != 1 || f.Properties["name_zh"] != "站" || f.ID != 0 {
			t.Errorf("properties %v, id %d; want only name_zh, id 0", f.Properties, f.ID)
		}
	})
	t.Run("IDs", func(t *testing.T) {
		for _, tc := range []struct {
			id  string
			fid int64
			ok  bool
		}{
			{`7`, 7, true}, {`"7"`, 7, true}, {`null`, 7, true}, {`8`, 7, false}, {`"07"`, 7, false}, {`7.5`, 7, false},
			{`{"a":1}`, 7, false}, {`99`, 0, true},
		} {
			body := `{"type":"Feature","id":` + tc.id + point(121.5, 32.1)[len(`{"type":"Feature"`):]
			f, err := decodeFeature([]byte(body), crs(""), tc.fid)
			if (err == nil) != tc.ok {
				t.Errorf("id %s for feature %d: %v; want ok %t", tc.id, tc.fid, err, tc.ok)
			}
			if err == nil && f.ID != tc.fid {
				t.Errorf("id %s for feature %d: the feature has id %d", tc.id, tc.fid, f.ID)
			}
		}
	})
	t.Run("WebMercator", func(t *testing.T) {
		// 121.5°E, 32.1°N in EPSG:3857.
		x := 121.5 * math.Pi / 180 * 6378137
		y := math.Log(math.Tan(math.Pi/4+32.1*math.Pi/360)) * 6378137
		f, err := decodeFeature([]byte(point(x, y)), crs("http://www.opengis.net/def/crs/EPSG/0/3857"), 0)
		if err != nil {
			t.Fatal(err)
		}
		p := f.Geometry.(orb.Point)
		if math.Abs(p[0]-121.5) > 1e-7 || math.Abs(p[1]-32.1) > 1e-7 {
			t.Errorf("EPSG:3857 (%f, %f) came out at %v, want (121.5, 32.1)", x, y, p)
		}
	})
	t.Run("LatitudeFirst", func(t *testing.T) {
		f, err := decodeFeature([]byte(point(32.1, 121.5)), crs("EPSG:4326"), 0)
		if err != nil {
			t.Fatal(err)
		}
		if p := f.Geometry.(orb.Point); p != (orb.Point{121.5, 32.1}) {
			t.Errorf("EPSG:4326 (32.1, 121.5) came out at %v, want (121.5, 32.1)", p)
		}
	})
	for _, tc := range []struct{ name, body, want string }{
		{"Syntax", "{\"type\": \"Feature\",\n  \"properties\": {\"a\": 1,}}", "line 2, column"},
		{"Array", `[{"type":"Feature"}]`, "is a JSON array, not a GeoJSON Feature"},
		{"Null", `null`, "not a GeoJSON Feature"},
		{"Collection", `{"type":"FeatureCollection","features":[]}`, `want "Feature"`},
		{"NoGeometry", `{"type":"Feature","properties":{}}`, "no geometry"},
		{"OutOfRange", point(221.5, 32.1), "221.5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeFeature([]byte(tc.body), crs(""), 0)
			if layers.ErrorCode(err) != layers.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("decodeFeature(%s) = %v; want an EINVALID error saying %q", tc.body, err, tc.want)
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, encoding string
		size                        int
		code                        string
	}{
		{"GeoJSON", "application/geo+json", "", 10, ""},
		{"JSONWithCharset", "application/json; charset=UTF-8", "", 10, ""},
		{"Identity", "application/geo+json", "identity", 10, ""},
		{"AtTheLimit", "application/geo+json", "", maxBody, ""},
		{"NoType", "", "", 10, codeMediaType},
		{"Text", "text/plain", "", 10, codeMediaType},
		{"OtherCharset", "application/json; charset=gbk", "", 10, codeMediaType},
		{"Gzipped", "application/json", "gzip", 10, codeMediaType},
		{"OverTheLimit", "application/json", "", maxBody + 1, codeTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat(" ", tc.size)))
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			if tc.encoding != "" {
				r.Header.Set("Content-Encoding", tc.encoding)
			}
			body, err := readBody(httptest.NewRecorder(), r, mediaGeoJSON, mediaJSON)
			if tc.code == "" && (err != nil || len(body) != tc.size) {
				t.Fatalf("readBody = %d bytes, %v; want %d bytes", len(body), err, tc.size)
			}
			if tc.code != "" && layers.ErrorCode(err) != tc.code {
				t.Fatalf("readBody = %v, want code %s", err, tc.code)
			}
		})
	}
	// A body over the limit sent without a length is cut where it passes it.
	r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat(" ", maxBody+1)))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	if _, err := readBody(httptest.NewRecorder(), r, mediaJSON); layers.ErrorCode(err) != codeTooLarge {
		t.Errorf("an unannounced body over the limit: %v, want %s", err, codeTooLarge)
	}
	if statuses[codeTooLarge] != http.StatusRequestEntityTooLarge || statuses[codeMediaType] != http.StatusUnsupportedMediaType {
		t.Error("413 and 415 are not in the error mapping")
	}
}
