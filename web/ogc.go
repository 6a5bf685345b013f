package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"planmap/layers"
	"planmap/web/filecache"
)

// link is an OGC API link.
type link struct {
	Href  string `json:"href"`
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
	// Templated: Href is a URI template (OGC API – Tiles).
	Templated bool `json:"templated,omitempty"`
}

const relQueryables = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

// base is the absolute URL of the service root: QGIS fails on relative
// links (INTEROP.md §0).
func (s *server) base(r *http.Request) string {
	if s.opt.BaseURL != "" {
		return s.opt.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// withQuery returns href with the query parameters, f replaced by f when
// f is not empty.
func withQuery(href string, q url.Values, f string) string {
	if len(q) == 0 {
		// What Encode writes of f alone, without building a map for it:
		// most requests have no query.
		if f == "" {
			return href
		}
		return href + "?f=" + url.QueryEscape(f)
	}
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	if f != "" {
		c.Set("f", f)
	}
	if len(c) == 0 {
		return href
	}
	return href + "?" + c.Encode()
}

// selfLinks are the self and alternate links of a resource that comes as
// JSON of type jsonType and as HTML. Each link sets f (withQuery), so q
// may hold the request's own: no copy of q without it is needed.
func selfLinks(href string, q url.Values, jsonType string, html bool) []link {
	return appendSelfLinks(nil, href, q, jsonType, html)
}

// appendSelfLinks is selfLinks appended to dst, for a caller that adds
// more links to them in one slice.
func appendSelfLinks(dst []link, href string, q url.Values, jsonType string, html bool) []link {
	if html {
		return append(dst,
			link{Href: withQuery(href, q, "html"), Rel: "self", Type: mediaHTML, Title: "this document"},
			link{Href: withQuery(href, q, "json"), Rel: "alternate", Type: jsonType, Title: "this document as JSON"},
		)
	}
	return append(dst,
		link{Href: withQuery(href, q, "json"), Rel: "self", Type: jsonType, Title: "this document"},
		link{Href: withQuery(href, q, "html"), Rel: "alternate", Type: mediaHTML, Title: "this document as HTML"},
	)
}

var conformanceClasses = []string{
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
	"http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
	"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
	// and OGC API – Tiles: tileConformance (tiles.go).
}

const (
	serviceTitle       = "海门港新区规划用地 Haimen Port New Area planned land use"
	serviceDescription = "规划用地图层：港口码头、安置房、生态公园、铁路车站、产业与道路河流。Hand-drawn planned land use of Haimen Port New Area, Nantong, Jiangsu: port terminals, resettlement housing, the Harbour Eco-Park, Dongzaogang station, industry, roads and rivers. Positions are approximations from public descriptions, not survey data."
)

type landingPage struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Links       []link `json:"links"`
}

func (s *server) landing(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := checkParams(q, "f"); err != nil {
		return err
	}
	if notModified(w, r, s.etag(r)) {
		return nil
	}
	base := s.base(r)
	html := wantsHTML(r)
	lp := landingPage{Title: serviceTitle, Description: serviceDescription}
	lp.Links = append(selfLinks(base+"/", nil, mediaJSON, html),
		link{Href: base + "/api", Rel: "service-desc", Type: mediaOpenAPI, Title: "the API definition (OpenAPI 3.0)"},
		link{Href: base + "/api.html", Rel: "service-doc", Type: mediaHTML, Title: "the API documentation"},
		link{Href: base + "/conformance", Rel: "conformance", Type: mediaJSON, Title: "OGC API conformance classes implemented"},
		link{Href: base + "/collections", Rel: "data", Type: mediaJSON, Title: "the layers"},
		link{Href: base + "/download/planmap.gpkg", Rel: "enclosure", Type: mediaGPKG, Title: "every layer as one GeoPackage"},
		link{Href: base + "/download/planmap.kml", Rel: "enclosure", Type: mediaKML, Title: "every layer as KML"},
		link{Href: base + "/stats", Rel: relStatistics, Type: mediaJSON, Title: "count and area per land-use class over every polygon layer"},
		link{Href: base + "/stats?f=csv", Rel: relStatistics, Type: "text/csv", Title: "the same as CSV"},
		link{Href: base + "/tileMatrixSets", Rel: relTMS, Type: mediaJSON, Title: "the tile matrix sets of the vector tiles"},
	)
	lp.Links = append(lp.Links, tileLinks(base, nil)...)
	if html {
		return s.render(w, r, "map", lp.Title, mapPage{Landing: lp, Config: newMapConfig(s.basePath, s.opt)})
	}
	return writeJSON(w, http.StatusOK, lp)
}

func (s *server) conformance(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	if notModified(w, r, s.etag(r)) {
		return nil
	}
	classes := s.conformsTo()
	body := map[string]any{"conformsTo": classes}
	if wantsHTML(r) {
		return s.render(w, r, "conformance", "Conformance", classes)
	}
	return writeJSON(w, http.StatusOK, body)
}

// collectionDoc is a collection as /collections and /collections/{id}
// describe it. Members after Links are planmap's own, for the web map.
type collectionDoc struct {
	ID           string         `json:"id"`
	Title        string         `json:"title"`
	Description  string         `json:"description"`
	ItemType     string         `json:"itemType"`
	Extent       *extent        `json:"extent,omitempty"`
	CRS          []string       `json:"crs"`
	StorageCRS   string         `json:"storageCrs"`
	Links        []link         `json:"links"`
	Titles       layers.Text    `json:"titles"`
	Descriptions layers.Text    `json:"descriptions"`
	GeometryType string         `json:"geometryType"`
	Order        int            `json:"order"`
	Style        layers.Style   `json:"style"`
	Schema       []layers.Field `json:"schema"`
	ItemCount    int            `json:"itemCount"`
	// XYZ is the URL template of its vector tiles, {z}/{y}/{x}, for QGIS.
	XYZ string `json:"-"`
}

type extent struct {
	Spatial spatialExtent `json:"spatial"`
}

type spatialExtent struct {
	BBox [][4]float64 `json:"bbox"`
	CRS  string       `json:"crs"`
}

func (s *server) collectionDoc(base string, col *layers.Collection) collectionDoc {
	href := base + "/collections/" + url.PathEscape(col.ID)
	d := collectionDoc{
		ID:           col.ID,
		Title:        col.Title.Zh + " " + col.Title.En,
		Description:  col.Description.Zh + " " + col.Description.En,
		ItemType:     "feature",
		CRS:          crsURIs(),
		StorageCRS:   crs84,
		Titles:       col.Title,
		Descriptions: col.Description,
		GeometryType: col.GeometryType,
		Order:        col.Order,
		Style:        col.Style,
		Schema:       col.Schema,
		ItemCount:    col.Count,
		Links: append(selfLinks(href, nil, mediaJSON, false),
			link{Href: href + "/items", Rel: "items", Type: mediaGeoJSON, Title: "its features"},
			link{Href: href + "/items?f=html", Rel: "items", Type: mediaHTML, Title: "its features as HTML"},
			link{Href: href + "/queryables", Rel: relQueryables, Type: mediaSchema, Title: "the fields one can filter on"},
			link{Href: href + "/schema", Rel: relSchema, Type: mediaSchema, Title: "the schema of its features"},
			link{Href: href + "/stats", Rel: relStatistics, Type: mediaJSON, Title: "count and area or length, per value of ?groupby=field"},
			link{Href: href + "/stats?f=csv", Rel: relStatistics, Type: "text/csv", Title: "the same as CSV"},
			link{Href: href + "/download.geojson", Rel: "enclosure", Type: mediaGeoJSON, Title: "the whole layer as GeoJSON"},
			link{Href: href + "/download.gpkg", Rel: "enclosure", Type: mediaGPKG, Title: "the whole layer as a GeoPackage"},
			link{Href: href + "/download.kml", Rel: "enclosure", Type: mediaKML, Title: "the whole layer as KML"},
			link{Href: base + "/collections", Rel: "parent", Type: mediaJSON, Title: "all layers"},
		),
		XYZ: xyzURL(base, col),
	}
	d.Links = append(d.Links, tileLinks(base, col)...)
	if col.Count > 0 {
		e := col.Extent
		d.Extent = &extent{Spatial: spatialExtent{BBox: [][4]float64{{e.Min[0], e.Min[1], e.Max[0], e.Max[1]}}, CRS: crs84}}
	}
	return d
}

func (s *server) catalog(r *http.Request) (*layers.Catalog, error) {
	return s.store.Catalog(r.Context())
}

func (s *server) lookup(r *http.Request) (*layers.Collection, error) {
	cat, err := s.catalog(r)
	if err != nil {
		return nil, err
	}
	id := chi.URLParam(r, "collectionId")
	col, ok := cat.Collection(id)
	if !ok {
		return nil, layers.Errorf(layers.ENOTFOUND, "there is no collection %q; /collections lists them", id)
	}
	return col, nil
}

// encoded is a JSON document kept for as long as the catalog and the base
// URL it was made from are current.
type encoded struct {
	cat  *layers.Catalog
	base string
	body []byte
}

func (s *server) collections(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := checkParams(q, "f"); err != nil {
		return err
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	if notModified(w, r, s.etag(r, catalogVersion(cat))) {
		return nil
	}
	base := s.base(r)
	html := wantsHTML(r)
	if c := s.collectionsJSON.Load(); !html && c != nil && c.cat == cat && c.base == base {
		w.Header().Set("Content-Type", mediaJSON)
		_, err := w.Write(c.body)
		return err
	}
	body := struct {
		Links       []link          `json:"links"`
		Collections []collectionDoc `json:"collections"`
		CRS         []string        `json:"crs"`
	}{Links: selfLinks(base+"/collections", nil, mediaJSON, html), CRS: crsURIs()}
	for _, col := range cat.Collections {
		body.Collections = append(body.Collections, s.collectionDoc(base, col))
	}
	if html {
		return s.render(w, r, "collections", "Layers", body)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	// The list changes only with the catalog: encode it once per catalog.
	s.collectionsJSON.Store(&encoded{cat: cat, base: base, body: b})
	w.Header().Set("Content-Type", mediaJSON)
	_, err = w.Write(b)
	return err
}

func (s *server) collection(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	if notModified(w, r, s.etag(r, col.Version)) {
		return nil
	}
	base := s.base(r)
	d := s.collectionDoc(base, col)
	if wantsHTML(r) {
		copy(d.Links, selfLinks(base+"/collections/"+url.PathEscape(col.ID), nil, mediaJSON, true))
		return s.render(w, r, "collection", d.Title, d)
	}
	return writeJSON(w, http.StatusOK, d)
}

func (s *server) items(w http.ResponseWriter, r *http.Request) error {
	at, err := s.parseAsOf(w, r)
	if err != nil {
		return err
	}
	col, err := s.lookupAt(r, at)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	iq, err := parseItems(q, col)
	if err != nil {
		return err
	}
	// The ETag depends on the request and the layer's version, not on the
	// answer: a client revalidating gets its 304 without the selection.
	if notModified(w, r, s.etag(r, col.Version, asOfVersion(at))) {
		return nil
	}
	// With after (paging by key), one feature more than the page says
	// whether there is a next page.
	want := iq.limit
	if iq.keyed {
		want++
	}
	page, matched, err := s.itemsAt(r.Context(), col.ID, at, iq.filter, layers.Page{After: iq.after, Offset: iq.offset, Limit: want})
	if err != nil {
		return err
	}
	more := iq.offset+len(page) < matched
	if iq.keyed {
		more = len(page) > iq.limit
		page = page[:min(len(page), iq.limit)]
	}
	html := wantsHTML(r)

	base := s.base(r)
	href := base + "/collections/" + url.PathEscape(col.ID) + "/items"
	links := selfLinks(href, q, mediaGeoJSON, html)
	if more {
		next := without(q, "f")
		if iq.keyed {
			// Paging by key goes on by key: every page costs the same,
			// where an offset costs more the further it goes.
			next.Del("offset")
			next.Set("after", strconv.FormatInt(page[len(page)-1].ID, 10))
		} else {
			next.Set("offset", strconv.Itoa(iq.offset+iq.limit))
		}
		next.Set("limit", strconv.Itoa(iq.limit))
		links = append(links, link{Href: withQuery(href, next, pick(html, "html", "")), Rel: "next", Type: pick(html, mediaHTML, mediaGeoJSON), Title: "the next page"})
	}
	if iq.offset > 0 && !iq.keyed {
		prev := without(q, "f")
		prev.Set("offset", strconv.Itoa(max(0, iq.offset-iq.limit)))
		prev.Set("limit", strconv.Itoa(iq.limit))
		links = append(links, link{Href: withQuery(href, prev, pick(html, "html", "")), Rel: "prev", Type: pick(html, mediaHTML, mediaGeoJSON), Title: "the previous page"})
	}
	links = append(links, link{Href: base + "/collections/" + url.PathEscape(col.ID), Rel: "collection", Type: mediaJSON, Title: "the layer"})

	if html {
		return s.render(w, r, "items", col.Title.Zh+" "+col.Title.En, itemsPage{
			Collection: col, Items: page, Matched: matched, Offset: iq.offset, Links: links, CRS: iq.crs,
		})
	}
	h := w.Header()
	iq.crs.setGeoJSON(h)
	// Features are written as they are, through a pooled buffer: a page of
	// 10,000 goes out in pieces, never whole in memory.
	bw := writers.Get().(*bufio.Writer)
	bw.Reset(w)
	defer func() {
		bw.Reset(nil)
		writers.Put(bw)
	}()
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	b := append((*buf)[:0], `{"type":"FeatureCollection","numberMatched":`...)
	b = strconv.AppendInt(b, int64(matched), 10)
	b = append(b, `,"numberReturned":`...)
	b = strconv.AppendInt(b, int64(len(page)), 10)
	b = append(b, `,"timeStamp":"`...)
	b = time.Now().UTC().AppendFormat(b, time.RFC3339)
	b = append(b, `","links":`...)
	b = appendLinks(b, links)
	b = append(b, `,"features":[`...)
	bw.Write(b)
	for i, it := range page {
		if i > 0 {
			bw.WriteByte(',')
		}
		if iq.crs.uri == crs84 {
			bw.Write(it.JSON)
			continue
		}
		b = it.AppendIn(b[:0], iq.crs.transform())
		bw.Write(b)
	}
	keep(buf, b)
	bw.WriteString("]}\n")
	return bw.Flush()
}

var (
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 32<<10) }}
	bufs    = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
)

// keep makes b, grown from *buf, the pooled buffer's next start, unless
// one large feature grew it: the pool would hold that size for good.
func keep(buf *[]byte, b []byte) {
	if cap(b) <= 64<<10 {
		*buf = b
	}
}

// appendLinks appends links as a JSON array. Hrefs are URLs, escaped
// ASCII, and titles our own; anything else goes through encoding/json.
func appendLinks(dst []byte, links []link) []byte {
	dst = append(dst, '[')
	for i, l := range links {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"href":`...)
		dst = appendString(dst, l.Href)
		dst = append(dst, `,"rel":`...)
		dst = appendString(dst, l.Rel)
		if l.Type != "" {
			dst = append(dst, `,"type":`...)
			dst = appendString(dst, l.Type)
		}
		if l.Title != "" {
			dst = append(dst, `,"title":`...)
			dst = appendString(dst, l.Title)
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func pick(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

func without(q url.Values, names ...string) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = v
	}
	for _, n := range names {
		c.Del(n)
	}
	return c
}

type itemsPage struct {
	Collection *layers.Collection
	Items      []*layers.Item
	Matched    int
	Offset     int
	Links      []link
	CRS        crsInfo
}

func (s *server) item(w http.ResponseWriter, r *http.Request) error {
	at, err := s.parseAsOf(w, r)
	if err != nil {
		return err
	}
	col, err := s.lookupAt(r, at)
	if err != nil {
		return err
	}
	q := queryOf(r)
	if err := checkParams(q, "f", "crs", asOfParam); err != nil {
		return err
	}
	c, err := parseCRS("crs", q.Get("crs"))
	if err != nil {
		return err
	}
	it, raw, err := s.lookupItemAt(r, col, at)
	if err != nil {
		return err
	}
	html := wantsHTML(r)
	// The GeoJSON's ETag is the feature's version, which If-Match of a
	// write compares; the page's depends on the code that makes it too,
	// and a past version's on the time it was asked as of.
	tag := itemETag(it)
	if html || !at.IsZero() {
		tag = s.etag(r, it.Version(), asOfVersion(at))
	}
	if notModified(w, r, tag) {
		return nil
	}
	base := s.base(r)
	colHref := base + "/collections/" + url.PathEscape(col.ID)
	// Room for all four: self, alternate, collection, versions.
	links := append(appendSelfLinks(make([]link, 0, 4), colHref+"/items/"+raw, q, mediaGeoJSON, html),
		link{Href: colHref, Rel: "collection", Type: mediaJSON, Title: "the layer"})
	if _, ok := s.editor(); ok && col.Dropped.IsZero() {
		links = append(links, link{Href: colHref + "/items/" + raw + "/versions", Rel: relVersions, Type: mediaGeoJSON, Title: "its versions"})
	}
	if html {
		return s.render(w, r, "item", fmt.Sprint(it.Value("name_zh")), itemPage{Collection: col, Item: it, Links: links, CRS: c})
	}
	// A pooled buffer: Write copies it, and a feature asked from the
	// cache allocated its size twice over in growing this.
	buf := bufs.Get().(*[]byte)
	defer bufs.Put(buf)
	body := (*buf)[:0]
	if c.uri == crs84 {
		body = append(body, it.JSON...)
	} else {
		body = it.AppendIn(body, c.transform())
	}
	body = body[:len(body)-1]
	if at.IsZero() {
		body = s.appendProblem(body, col.ID, it.ID)
	}
	body = append(appendLinks(append(body, `,"links":`...), links), "}\n"...)
	keep(buf, body)
	c.setGeoJSON(w.Header())
	_, err = w.Write(body)
	return err
}

// lookupItem returns the feature the path names in col, and the id as
// the path spells it.
func (s *server) lookupItem(r *http.Request, col *layers.Collection) (*layers.Item, string, error) {
	raw := chi.URLParam(r, "featureId")
	// Made only when needed: formatting it costs more than the rest of
	// a lookup in the cache.
	notFound := func() error {
		return layers.Errorf(layers.ENOTFOUND, "collection %s has no feature %q", col.ID, raw)
	}
	fid, err := strconv.ParseInt(raw, 10, 64)
	// One URL per feature: 01 or +1 is not feature 1.
	if err != nil || strconv.FormatInt(fid, 10) != raw {
		return nil, raw, notFound()
	}
	it, err := s.store.Item(r.Context(), col.ID, fid)
	if err != nil && layers.ErrorCode(err) == layers.ENOTFOUND {
		return nil, raw, notFound()
	}
	return it, raw, s.goneError(r, col.ID, fid, err)
}

type itemPage struct {
	Collection *layers.Collection
	Item       *layers.Item
	Links      []link
	CRS        crsInfo
}

func (s *server) queryables(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	if notModified(w, r, s.etag(r, col.Version)) {
		return nil
	}
	href := s.base(r) + "/collections/" + url.PathEscape(col.ID) + "/queryables"
	doc := fieldsSchema(col.Layer, href)
	doc["additionalProperties"] = false
	if wantsHTML(r) {
		return s.render(w, r, "queryables", "Queryables: "+col.Title.Zh+" "+col.Title.En, col)
	}
	return writeJSONType(w, http.StatusOK, mediaSchema, doc)
}

// geometryFormat names a geometry type as JSON Schema queryables do.
func geometryFormat(t string) string { return strings.ToLower(t) }

// fieldSchema is the JSON Schema of a field, for queryables and OpenAPI.
func fieldSchema(fd layers.Field) map[string]any {
	sc := map[string]any{"title": fd.Description.Zh + " " + fd.Description.En}
	switch fd.Type {
	case layers.Integer:
		sc["type"] = "integer"
	case layers.Number:
		sc["type"] = "number"
	case layers.Boolean:
		sc["type"] = "boolean"
	case layers.Date:
		sc["type"], sc["format"] = "string", "date"
	case layers.DateTime:
		sc["type"], sc["format"] = "string", "date-time"
	default:
		sc["type"] = "string"
		if len(fd.Values) > 0 {
			sc["enum"] = fd.Values
		}
	}
	return sc
}

func (s *server) downloadGeoJSON(w http.ResponseWriter, r *http.Request) error {
	return s.layerDownload(w, r, "geojson", mediaGeoJSON, func(id string) filecache.Builder {
		return filecache.WriterBuilder(func(ctx context.Context, w io.Writer) error {
			return s.store.WriteGeoJSON(ctx, w, id, nil)
		})
	})
}

func (s *server) downloadGPKG(w http.ResponseWriter, r *http.Request) error {
	return s.layerDownload(w, r, "gpkg", mediaGPKG, func(id string) filecache.Builder {
		return func(ctx context.Context, path string) error { return s.store.ExportGPKG(ctx, path, id) }
	})
}

func (s *server) downloadAll(w http.ResponseWriter, r *http.Request) error {
	return s.allDownload(w, r, "gpkg", mediaGPKG, func(ctx context.Context, path string) error {
		return s.store.ExportGPKG(ctx, path)
	})
}

// search answers /search?q=…: features of any layer whose name contains q.
func (s *server) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := checkParams(q, "q", "limit"); err != nil {
		return err
	}
	limit, err := parseLimit(q.Get("limit"), 20, 100)
	if err != nil {
		return err
	}
	text := q.Get("q")
	if strings.TrimSpace(text) == "" {
		return layers.Errorf(layers.EINVALID, "q is empty: give a name, or part of one, in Chinese or English")
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	if notModified(w, r, s.etag(r, catalogVersion(cat))) {
		return nil
	}
	hits, err := s.store.Search(r.Context(), text, limit)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", mediaGeoJSON)
	buf := []byte(`{"type":"FeatureCollection","numberReturned":` + strconv.Itoa(len(hits)) + `,"features":[`)
	for i, h := range hits {
		if i > 0 {
			buf = append(buf, ',')
		}
		// The feature, with the collection it belongs to as a foreign member.
		buf = append(buf, h.Item.JSON[:len(h.Item.JSON)-1]...)
		buf = append(buf, `,"collection":`...)
		buf = strconv.AppendQuote(buf, h.Layer)
		buf = append(buf, '}')
	}
	buf = append(buf, "]}\n"...)
	_, err = w.Write(buf)
	return err
}
