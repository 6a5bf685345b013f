package web

import (
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// Media types.
const (
	mediaJSON    = "application/json"
	mediaGeoJSON = "application/geo+json"
	mediaOpenAPI = "application/vnd.oai.openapi+json;version=3.0"
	mediaSchema  = "application/schema+json"
	mediaHTML    = "text/html"
	mediaGPKG    = "application/geopackage+sqlite3"
	mediaProblem = "application/problem+json"
)

// Paging: the default page and the largest one a request may ask for;
// larger limits are clamped, as OGC API Features 1.0.1 requires.
const (
	defaultLimit = 100
	maxLimit     = 10000
)

// queryOf is r's query parameters, nil (read as none) when it has none:
// url.URL.Query makes a map even then, on nearly every request.
func queryOf(r *http.Request) url.Values {
	if r.URL.RawQuery == "" {
		return nil
	}
	return r.URL.Query()
}

// wantsHTML reports whether the client asked for HTML: f=html, or a
// browser's Accept header that ranks text/html above JSON.
func wantsHTML(r *http.Request) bool {
	switch queryOf(r).Get("f") {
	case "html":
		return true
	case "":
	default:
		return false
	}
	html, jsonQ := acceptQ(r.Header.Get("Accept"))
	return html > 0 && html > jsonQ
}

// acceptQ returns the quality the Accept header gives text/html and the
// best it gives a JSON type (application/json, application/geo+json, …).
func acceptQ(accept string) (html, jsonQ float64) {
	// Cut, not Split: this is read on every request, and Split allocates.
	for rest, more := accept, true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		mt, params, _ := strings.Cut(part, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		q := 1.0
		for params != "" {
			var p string
			p, params, _ = strings.Cut(params, ";")
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "q" {
				if f, ok := parseNumber(v); ok {
					q = f
				}
			}
		}
		switch {
		case mt == "text/html":
			html = math.Max(html, q)
		case strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "json"):
			jsonQ = math.Max(jsonQ, q)
		}
	}
	return html, jsonQ
}

// checkQuery refuses, on every route, a query string that does not parse:
// url.Values drops what it cannot read (%zz, a ; between parameters), and
// a filter dropped silently returns everything.
func (s *server) checkQuery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery != "" {
			if _, err := url.ParseQuery(r.URL.RawQuery); err != nil {
				s.writeError(w, r, layers.Errorf(layers.EINVALID, "the query string %q does not parse: %v; separate parameters with & and percent-encode values (%% as %%25)", r.URL.RawQuery, err))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// redirectSlash sends a path with a trailing slash to the path without it,
// keeping the query, with 308: unlike 301, it keeps the method and body.
func (s *server) redirectSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		// Under /static/ a trailing slash names a folder, which is not
		// served: that is a 404, not a redirect to it.
		if len(p) < 2 || !strings.HasSuffix(p, "/") || strings.HasPrefix(p, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		// One leading slash: "//host" would send the client to another host.
		target := s.opt.BaseURL + "/" + strings.Trim(p, "/")
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusPermanentRedirect)
	})
}

// checkParams refuses query parameters other than the allowed ones, a
// parameter given twice, and values of f other than json and html: OGC API
// Features wants a 400 for each, so that a mistyped filter never silently
// returns everything.
func checkParams(q url.Values, allowed ...string) error {
	for name, vs := range q {
		if !slices.Contains(allowed, name) {
			return layers.Errorf(layers.EINVALID, "unknown query parameter %q; this resource takes %s", name, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return layers.Errorf(layers.EINVALID, "query parameter %s is given %d times; give it once", name, len(vs))
		}
	}
	if f := q.Get("f"); f != "" && f != "json" && f != "html" {
		return layers.Errorf(layers.EINVALID, "f=%s is not a format this service has; use f=json or f=html", f)
	}
	return nil
}

// crsInfo is a coordinate reference system the API serves.
type crsInfo struct {
	uri string
	// swap is true for lat/lon axis order (EPSG:4326 and EPSG:4490 as
	// their authority defines them), which clients asking for those URIs
	// expect.
	swap       bool
	mercator   bool
	geographic bool
	// contentCRS is the Content-Crs header's value: "<uri>".
	contentCRS []string
}

const crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

var crsList = func() []crsInfo {
	l := []crsInfo{
		{uri: crs84, geographic: true},
		{uri: "http://www.opengis.net/def/crs/EPSG/0/4326", swap: true, geographic: true},
		{uri: "http://www.opengis.net/def/crs/EPSG/0/4490", swap: true, geographic: true},
		{uri: "http://www.opengis.net/def/crs/EPSG/0/3857", mercator: true},
	}
	for i := range l {
		l[i].contentCRS = []string{"<" + l[i].uri + ">"}
	}
	return l
}()

// geoJSONType is the Content-Type of GeoJSON answers, made once.
var geoJSONType = []string{mediaGeoJSON}

// setGeoJSON gives h the Content-Type and Content-Crs of GeoJSON in c,
// from values made once: a small answer's header slices are a good part
// of its garbage. Sharing them is safe (securityHeaders says why).
func (c crsInfo) setGeoJSON(h http.Header) {
	h["Content-Type"] = geoJSONType
	h["Content-Crs"] = c.contentCRS
}

func crsURIs() []string {
	out := make([]string, len(crsList))
	for i, c := range crsList {
		out[i] = c.uri
	}
	return out
}

func parseCRS(param, v string) (crsInfo, error) {
	if v == "" {
		return crsList[0], nil
	}
	// Also take the short forms people type, and a safe CURIE.
	short := strings.Trim(strings.ToUpper(v), "[]")
	for _, c := range crsList {
		code := c.uri[strings.LastIndex(c.uri, "/")+1:]
		if v == c.uri || short == "EPSG:"+code || (code == "CRS84" && (short == "OGC:CRS84" || short == "CRS84")) {
			return c, nil
		}
	}
	return crsInfo{}, layers.Errorf(layers.EINVALID, "%s=%s is not a CRS this service has; use one of %s", param, v, strings.Join(crsURIs(), ", "))
}

// toLonLat converts a point in c to CRS84.
func (c crsInfo) toLonLat(p orb.Point) orb.Point {
	switch {
	case c.swap:
		return orb.Point{p[1], p[0]}
	case c.mercator:
		return geo.FromWebMercator(p).(orb.Point)
	}
	return p
}

// URI names c, for pages.
func (c crsInfo) URI() string { return c.uri }

// Bound returns b, a box in CRS84, in c, for pages.
func (c crsInfo) Bound(b orb.Bound) orb.Bound {
	return c.transform()(orb.MultiPoint{b.Min, b.Max}).Bound()
}

// transform returns the function that turns CRS84 geometries into c.
func (c crsInfo) transform() func(orb.Geometry) orb.Geometry {
	switch {
	case c.swap:
		return geo.SwapAxes
	case c.mercator:
		return geo.ToWebMercator
	}
	return func(g orb.Geometry) orb.Geometry { return g }
}

// parseNumber parses a decimal number: an optional sign, digits with an
// optional fraction, an optional exponent. strconv.ParseFloat also takes
// hex floats, underscores, NaN and Inf, which no client means and which
// slip past range checks (NaN compares false with everything), and turns
// an overflow into ±Inf: every number in a request goes through here.
func parseNumber(v string) (float64, bool) {
	i, digits := 0, 0
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		i++
	}
	for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		digits++
	}
	if i < len(v) && v[i] == '.' {
		for i++; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		exp := i
		for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
		}
		if i == exp {
			return 0, false
		}
	}
	if i != len(v) {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// parseBBox parses the bbox parameter (4 or 6 numbers, the 6-number form
// with heights that are ignored) in the CRS bbox-crs names, and returns it
// in CRS84 as one box, or two when it crosses the antimeridian. given says
// whether the request has a bbox at all: bbox= with nothing is a mistake.
func parseBBox(v string, given bool, crsParam string) ([]orb.Bound, error) {
	// bbox-crs alone is valid: the OpenAPI document gives it a default, and
	// clients send defaults.
	c, err := parseCRS("bbox-crs", crsParam)
	if err != nil {
		return nil, err
	}
	if !given {
		return nil, nil
	}
	parts := strings.Split(v, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return nil, layers.Errorf(layers.EINVALID, "bbox=%s has %d numbers; give 4 (minx,miny,maxx,maxy) or 6 (with heights)", v, len(parts))
	}
	n := make([]float64, len(parts))
	for i, p := range parts {
		f, ok := parseNumber(strings.TrimSpace(p))
		if !ok {
			return nil, layers.Errorf(layers.EINVALID, "bbox=%s: %q is not a finite decimal number", v, p)
		}
		n[i] = f
	}
	if len(n) == 6 {
		n = []float64{n[0], n[1], n[3], n[4]}
	}
	lo, hi := c.toLonLat(orb.Point{n[0], n[1]}), c.toLonLat(orb.Point{n[2], n[3]})
	if c.geographic {
		for _, p := range []orb.Point{lo, hi} {
			if p[1] < -90 || p[1] > 90 {
				return nil, layers.Errorf(layers.EINVALID, "bbox=%s: latitude %g is outside -90..90", v, p[1])
			}
			if p[0] < -180 || p[0] > 180 {
				return nil, layers.Errorf(layers.EINVALID, "bbox=%s: longitude %g is outside -180..180", v, p[0])
			}
		}
	}
	if lo[1] > hi[1] {
		return nil, layers.Errorf(layers.EINVALID, "bbox=%s: the southern edge %g is north of the northern edge %g", v, lo[1], hi[1])
	}
	if lo[0] > hi[0] {
		if !c.geographic {
			return nil, layers.Errorf(layers.EINVALID, "bbox=%s: minx is greater than maxx", v)
		}
		// West edge east of the east edge: the box crosses the antimeridian.
		return []orb.Bound{
			{Min: orb.Point{lo[0], lo[1]}, Max: orb.Point{180, hi[1]}},
			{Min: orb.Point{-180, lo[1]}, Max: orb.Point{hi[0], hi[1]}},
		}, nil
	}
	return []orb.Bound{{Min: lo, Max: hi}}, nil
}

// parseCount parses a count of things, digits only. One too large for an
// int is as good as the largest: limits are clamped, and an offset past
// every feature selects none.
func parseCount(v string) (int, bool) {
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return math.MaxInt, true
	}
	return n, true
}

// parseLimit parses a limit of at least 1, clamped to most; empty is def.
func parseLimit(v string, def, most int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, ok := parseCount(v)
	if !ok || n < 1 {
		return 0, layers.Errorf(layers.EINVALID, "limit=%s is not a whole number of 1 or more (%d at most are returned)", v, most)
	}
	return min(n, most), nil
}

func parseCountParam(name, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, ok := parseCount(v)
	if !ok {
		return 0, layers.Errorf(layers.EINVALID, "%s=%s is not a whole number of 0 or more", name, v)
	}
	return n, nil
}

// interval is a datetime parameter; a zero end is open.
type interval struct{ start, end time.Time }

// parseDatetime parses the datetime parameter of OGC API Features: an RFC
// 3339 date-time or date, or an interval of two, either end open ("..", or
// empty).
func parseDatetime(v string) (interval, error) {
	bad := func(why string) error {
		return layers.Errorf(layers.EINVALID, "datetime=%s %s; give an RFC 3339 date-time (2024-05-01T08:00:00Z) or date (2024-05-01), or an interval start/end with .. for an open end", v, why)
	}
	lo, hi, isInterval := strings.Cut(v, "/")
	if !isInterval {
		t, ok := parseInstant(v)
		if !ok {
			return interval{}, bad("is not a date-time")
		}
		return interval{t, t}, nil
	}
	var iv interval
	for _, end := range []struct {
		v string
		t *time.Time
	}{{lo, &iv.start}, {hi, &iv.end}} {
		if end.v == "" || end.v == ".." {
			continue
		}
		t, ok := parseInstant(end.v)
		if !ok {
			return interval{}, bad(fmt.Sprintf("has %q, which is not a date-time nor ..", end.v))
		}
		*end.t = t
	}
	if !iv.start.IsZero() && !iv.end.IsZero() && iv.end.Before(iv.start) {
		return interval{}, bad("ends before it starts")
	}
	return iv, nil
}

func parseInstant(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	t, err := time.Parse(time.DateOnly, v)
	return t, err == nil
}

// queryableValue parses a ?field=value filter by the field's type.
func queryableValue(fd *layers.Field, v string) (any, error) {
	bad := func(want string) error {
		return layers.Errorf(layers.EINVALID, "%s=%s: %s is %s", fd.Name, v, fd.Name, want)
	}
	switch fd.Type {
	case layers.Integer:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, bad("an integer")
		}
		return n, nil
	case layers.Number:
		f, ok := parseNumber(v)
		if !ok {
			return nil, bad("a finite decimal number")
		}
		return f, nil
	case layers.Boolean:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, bad("true or false")
		}
		return b, nil
	case layers.Date:
		if _, err := time.Parse("2006-01-02", v); err != nil {
			return nil, bad("a date, YYYY-MM-DD")
		}
	case layers.DateTime:
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, bad("a date-time, RFC 3339")
		}
		return t.UTC().Format("2006-01-02T15:04:05.000Z"), nil
	}
	if len(fd.Values) > 0 && !slices.Contains(fd.Values, v) {
		return nil, layers.Errorf(layers.EINVALID, "%s=%s: %s is one of %s", fd.Name, v, fd.Name, strings.Join(fd.Values, ", "))
	}
	return v, nil
}

// itemsParams are the parameters of /items besides the layer's fields.
var itemsParams = []string{"f", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "after", asOfParam}

// itemsQuery is a parsed /items request.
type itemsQuery struct {
	filter        layers.Filter
	limit, offset int
	after         int64 // only features with a greater id
	keyed         bool  // after was given: the client pages by key
	crs           crsInfo
}

func parseItems(q url.Values, col *layers.Collection) (itemsQuery, error) {
	allowed := append([]string{}, itemsParams...)
	for _, fd := range col.Schema {
		allowed = append(allowed, fd.Name)
	}
	if err := checkParams(q, allowed...); err != nil {
		return itemsQuery{}, err
	}
	var iq itemsQuery
	var err error
	if iq.filter, err = parseFilter(q, col); err != nil {
		return iq, err
	}
	if iq.crs, err = parseCRS("crs", q.Get("crs")); err != nil {
		return iq, err
	}
	// No layer has a time yet, and features without one match every
	// datetime (/req/core/fc-time-response): it is checked, and selects all.
	if q.Has("datetime") {
		if _, err := parseDatetime(q.Get("datetime")); err != nil {
			return iq, err
		}
	}
	if iq.limit, err = parseLimit(q.Get("limit"), defaultLimit, maxLimit); err != nil {
		return iq, err
	}
	if iq.offset, err = parseCountParam("offset", q.Get("offset")); err != nil {
		return iq, err
	}
	after, err := parseCountParam("after", q.Get("after"))
	if err != nil {
		return iq, err
	}
	iq.after, iq.keyed = int64(after), q.Has("after")
	return iq, nil
}

// parseFilter parses what in q selects features of col: bbox in bbox-crs,
// and ?field=value for each of col's fields q names. Every endpoint that
// selects features (items, stats) reads its selection here.
func parseFilter(q url.Values, col *layers.Collection) (layers.Filter, error) {
	var f layers.Filter
	var err error
	if f.BBoxes, err = parseBBox(q.Get("bbox"), q.Has("bbox"), q.Get("bbox-crs")); err != nil {
		return f, err
	}
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fd := col.Field(name)
		if fd == nil {
			continue
		}
		v, err := queryableValue(fd, q.Get(name))
		if err != nil {
			return f, err
		}
		if f.Equals == nil {
			f.Equals = map[string]any{}
		}
		f.Equals[name] = v
	}
	return f, nil
}

// etag is a weak validator for the response to r made from versions (of
// the catalog or of a collection) and from what else a response depends
// on: the code and options answering, the base URL, the path, the query
// and the Accept header. It hashes a few short strings, so a revalidation
// is answered before any work is done.
func (s *server) etag(r *http.Request, versions ...string) string {
	h := fnv.New64a()
	for _, p := range [...]string{buildID(), s.opt.Tiles, s.opt.Attribution, s.base(r), r.URL.Path, r.URL.RawQuery, r.Header.Get("Accept")} {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	for _, p := range versions {
		io.WriteString(h, p)
		h.Write([]byte{0})
	}
	b := make([]byte, 0, 24)
	b = append(b, `W/"`...)
	b = strconv.AppendUint(b, h.Sum64(), 16)
	return string(append(b, '"'))
}

// buildID identifies the code answering: the VCS revision of a clean
// build, else the start of this process, so that changed code never
// answers with the ETags of other code.
var buildID = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, st := range bi.Settings {
			switch st.Key {
			case "vcs.revision":
				rev = st.Value
			case "vcs.modified":
				modified = st.Value
			}
		}
		if rev != "" && modified == "false" {
			return rev
		}
	}
	return time.Now().Format(time.RFC3339Nano)
})

// notModified answers 304 when the client's If-None-Match holds tag.
func notModified(w http.ResponseWriter, r *http.Request, tag string) bool {
	w.Header().Set("ETag", tag)
	inm := r.Header.Get("If-None-Match")
	if inm == "" {
		return false
	}
	for _, t := range strings.Split(inm, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(tag, "W/") {
			w.WriteHeader(http.StatusNotModified)
			return true
		}
	}
	return false
}
