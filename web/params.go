package web

import (
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
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

// wantsHTML reports whether the client asked for HTML: f=html, or a
// browser's Accept header that ranks text/html above JSON.
func wantsHTML(r *http.Request) bool {
	switch r.URL.Query().Get("f") {
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
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && k == "q" {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
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

// checkParams refuses query parameters other than the allowed ones, and
// values of f other than json and html: OGC API Features wants a 400 for
// either, so that a mistyped filter never silently returns everything.
func checkParams(q url.Values, allowed ...string) error {
	for name := range q {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return layers.Errorf(layers.EINVALID, "unknown query parameter %q; this resource takes %s", name, strings.Join(allowed, ", "))
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
}

const crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

var crsList = []crsInfo{
	{uri: crs84, geographic: true},
	{uri: "http://www.opengis.net/def/crs/EPSG/0/4326", swap: true, geographic: true},
	{uri: "http://www.opengis.net/def/crs/EPSG/0/4490", swap: true, geographic: true},
	{uri: "http://www.opengis.net/def/crs/EPSG/0/3857", mercator: true},
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

// parseBBox parses the bbox parameter (4 or 6 numbers, the 6-number form
// with heights that are ignored) in the CRS bbox-crs names, and returns it
// in CRS84 as one box, or two when it crosses the antimeridian.
func parseBBox(v, crsParam string) ([]orb.Bound, error) {
	if v == "" {
		if crsParam != "" {
			return nil, layers.Errorf(layers.EINVALID, "bbox-crs is given without bbox")
		}
		return nil, nil
	}
	c, err := parseCRS("bbox-crs", crsParam)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(v, ",")
	if len(parts) != 4 && len(parts) != 6 {
		return nil, layers.Errorf(layers.EINVALID, "bbox=%s has %d numbers; give 4 (minx,miny,maxx,maxy) or 6 (with heights)", v, len(parts))
	}
	n := make([]float64, len(parts))
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, layers.Errorf(layers.EINVALID, "bbox=%s: %q is not a number", v, p)
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

func parseLimit(v string) (int, error) {
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, layers.Errorf(layers.EINVALID, "limit=%s is not a whole number from 1 to %d", v, maxLimit)
	}
	return min(n, maxLimit), nil
}

func parseOffset(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, layers.Errorf(layers.EINVALID, "offset=%s is not a whole number of 0 or more", v)
	}
	return n, nil
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
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, bad("a number")
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
	return v, nil
}

// itemsParams are the parameters of /items besides the layer's fields.
var itemsParams = []string{"f", "bbox", "bbox-crs", "crs", "limit", "offset"}

// itemsQuery is a parsed /items request.
type itemsQuery struct {
	filter        layers.Filter
	limit, offset int
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
	if iq.filter.BBoxes, err = parseBBox(q.Get("bbox"), q.Get("bbox-crs")); err != nil {
		return iq, err
	}
	if iq.crs, err = parseCRS("crs", q.Get("crs")); err != nil {
		return iq, err
	}
	if iq.limit, err = parseLimit(q.Get("limit")); err != nil {
		return iq, err
	}
	if iq.offset, err = parseOffset(q.Get("offset")); err != nil {
		return iq, err
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
			return iq, err
		}
		if iq.filter.Equals == nil {
			iq.filter.Equals = map[string]any{}
		}
		iq.filter.Equals[name] = v
	}
	return iq, nil
}

// etag is a weak validator for a response built from a collection's state
// and the request that selected from it.
func etag(col *layers.Collection, parts ...string) string {
	h := fnv.New64a()
	io.WriteString(h, col.Version())
	for _, p := range parts {
		h.Write([]byte{0})
		io.WriteString(h, p)
	}
	b := make([]byte, 0, 24)
	b = append(b, `W/"`...)
	b = strconv.AppendUint(b, h.Sum64(), 16)
	return string(append(b, '"'))
}

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
