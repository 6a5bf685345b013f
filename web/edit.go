package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// This file is the write half of the API, OGC API – Features Part 4
// (draft): create, replace, update and delete features, with optimistic
// locking by ETag, and each feature's history. A store that is not an
// Editor is served read-only, and none of these routes exist.

// maxBody bounds the body of a write. A hand-drawn feature of the
// district is a few kilobytes, the biggest seed feature about ten; 8 MiB
// is some 300,000 positions at the precision features are stored with,
// beyond any feature drawn by hand or digitised from a plan sheet, while
// what one write holds in memory (the text, its members, the geometry:
// about three times the text) stays bounded whatever a client sends.
const maxBody = 8 << 20

// maxNote bounds a Planmap-Note, in bytes of UTF-8 once decoded: a
// sentence or a short paragraph, which is what a history shows.
const maxNote = 1000

// patchRetries is how many times a PATCH without If-Match is merged
// again onto a feature that another write changed while it was merged.
const patchRetries = 3

const (
	mediaMergePatch = "application/merge-patch+json"
	relVersions     = "version-history" // RFC 5829
	relLatest       = "latest-version"  // RFC 5829
	// relSchema is Part 5's link from a collection to its schema, by
	// which QGIS finds it.
	relSchema = "http://www.opengis.net/def/rel/ogc/1.0/schema"
)

// editClasses are the conformance classes of Part 4 the service
// implements when its store is an Editor; schemaClasses those of Part 5.
var (
	editClasses = []string{
		"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
		"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
		"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
		"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
	}
	schemaClasses = []string{
		"http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/schemas",
	}
)

// editor returns the store as an Editor, if it is one.
func (s *server) editor() (Editor, bool) {
	ed, ok := s.store.(Editor)
	// A cache has the Editor's methods whatever it is in front of; it
	// says whether the store behind it takes writes.
	if e, wraps := s.store.(interface{ Editable() bool }); ok && wraps {
		ok = e.Editable()
	}
	return ed, ok
}

// conformsTo lists the conformance classes the service implements.
func (s *server) conformsTo() []string {
	out := append(append(slices.Clip(conformanceClasses), tileConformance...), schemaClasses...)
	if _, ok := s.editor(); ok {
		out = append(out, editClasses...)
	}
	return out
}

// editRoutes adds the schemas and, when the store is an Editor, the
// writes and the histories:
//
//	GET    /collections/{collectionId}/schema                   its features' JSON Schema (Part 5)
//	POST   /collections/{collectionId}/items                    a new feature → 201, Location, ETag
//	PUT    /collections/{collectionId}/items/{fid}              the feature replaced (or a deleted one back) → 200, ETag
//	PATCH  /collections/{collectionId}/items/{fid}              the feature updated by a JSON merge patch → 200, ETag
//	DELETE /collections/{collectionId}/items/{fid}              the feature deleted; its id stays retired → 204
//	GET    /collections/{collectionId}/items/{fid}/versions     its history, newest first
func (s *server) editRoutes(r chi.Router) {
	r.Get("/collections/{collectionId}/schema", s.handle(s.schema))
	if _, ok := s.editor(); !ok {
		return
	}
	r.Post("/collections/{collectionId}/items", s.write(s.createItem))
	r.Put("/collections/{collectionId}/items/{featureId}", s.write(s.replaceItem))
	r.Patch("/collections/{collectionId}/items/{featureId}", s.write(s.patchItem))
	r.Delete("/collections/{collectionId}/items/{featureId}", s.write(s.deleteItem))
	r.Get("/collections/{collectionId}/items/{featureId}/versions", s.handle(s.versions))
}

// write is handle for a handler that changes the store: once it has
// answered, the change feed is woken, so that open change streams hear
// of the write at once rather than at the feed's next look.
func (s *server) write(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		err := h(w, r)
		if err == nil {
			s.feed.written()
		}
		return err
	})
}

// itemETag is the ETag of a feature: its version, strong, the same for
// its GeoJSON in every CRS and for every write's answer.
func itemETag(it *layers.Item) string { return `"` + it.Version() + `"` }

// itemHref is the URL of feature fid of col.
func (s *server) itemHref(r *http.Request, col string, fid int64) string {
	return s.base(r) + "/collections/" + url.PathEscape(col) + "/items/" + strconv.FormatInt(fid, 10)
}

// writeFeature answers a write with the feature as stored, in CRS84,
// with its ETag.
func (s *server) writeFeature(w http.ResponseWriter, r *http.Request, col string, it *layers.Item, status int) error {
	href := s.itemHref(r, col, it.ID)
	links := []link{
		{Href: href, Rel: "self", Type: mediaGeoJSON, Title: "this feature"},
		{Href: href + "?f=html", Rel: "alternate", Type: mediaHTML, Title: "this feature as HTML"},
		{Href: href + "/versions", Rel: relVersions, Type: mediaGeoJSON, Title: "its versions"},
		{Href: s.base(r) + "/collections/" + url.PathEscape(col), Rel: "collection", Type: mediaJSON, Title: "the layer"},
	}
	body := append(appendLinks(append(slices.Clip(it.JSON[:len(it.JSON)-1]), `,"links":`...), links), "}\n"...)
	h := w.Header()
	h.Set("ETag", itemETag(it))
	crsList[0].setGeoJSON(h)
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}

// readBody reads the body of a write: one of the media types given (a
// charset parameter must say UTF-8, as JSON is), not content-encoded, and
// at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request, types ...string) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || !slices.Contains(types, mt) {
		// What the resource takes instead (RFC 5789 §3.1; for POST, W3C
		// LDP's Accept-Post).
		switch r.Method {
		case http.MethodPatch:
			w.Header().Set("Accept-Patch", strings.Join(types, ", "))
		case http.MethodPost:
			w.Header().Set("Accept-Post", strings.Join(types, ", "))
		}
		if ct == "" {
			ct = "none"
		}
		return nil, layers.Errorf(codeMediaType, "the body must be %s (Content-Type), not %s", strings.Join(types, " or "), ct)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "utf8") {
		return nil, layers.Errorf(codeMediaType, "the body must be UTF-8 JSON, not charset %s", cs)
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return nil, layers.Errorf(codeMediaType, "Content-Encoding %s is not taken: send the body as it is", enc)
	}
	tooLarge := layers.Errorf(codeTooLarge, "the body is larger than %d MiB, the most one write takes", maxBody>>20)
	if r.ContentLength > maxBody {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, tooLarge
	}
	return body, err
}

// contentCRS returns the CRS of a body's geometry: CRS84 unless the
// Content-Crs header names another of the service's CRSs, as <URI> or
// as the CRS parameters take it.
func contentCRS(r *http.Request) (crsInfo, error) {
	v := strings.TrimSpace(r.Header.Get("Content-Crs"))
	v = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
	return parseCRS("Content-Crs", v)
}

// fromCRS returns the function that turns geometries in c into CRS84:
// the inverse of transform, as a body's geometry needs it.
func (c crsInfo) fromCRS() func(orb.Geometry) (orb.Geometry, error) {
	switch {
	case c.swap:
		return func(g orb.Geometry) (orb.Geometry, error) { return geo.SwapAxes(g), nil }
	case c.mercator:
		proj, err := layers.SourceCRS(3857)
		if err != nil {
			panic(err) // SourceCRS always takes Web Mercator
		}
		return proj
	}
	return func(g orb.Geometry) (orb.Geometry, error) { return g, nil }
}

// decodeFeature turns the GeoJSON Feature a write sends into the feature
// to store, the one way every write reads one (PATCH after merging): as
// import reads a feature of a layer file (layers.ParseFeature), its
// geometry taken from c to CRS84. The properties the service computes
// (the measures; see layers.Measures) are dropped, so that a client may
// send back what it read; the store checks the rest against the layer
// (Layer.CheckFeature). fid is the feature the URL names, 0 for a new
// one: an id in the body must then be fid, or, for a new feature, is
// ignored, since the service assigns it.
func decodeFeature(body []byte, c crsInfo, fid int64) (layers.Feature, error) {
	f, id, err := layers.ParseFeature(body, c.fromCRS())
	if err != nil {
		return f, err
	}
	if fid != 0 && !sameID(id, fid) {
		return f, layers.Errorf(layers.EINVALID, "the body's id %s is not %d, the id in the URL: a feature's id cannot change", id, fid)
	}
	for k := range f.Properties {
		if strings.HasPrefix(k, layers.MeasurePrefix) {
			delete(f.Properties, k)
		}
	}
	f.ID = fid
	return f, nil
}

// sameID reports whether the id member raw is absent, null, or fid as a
// number or a string (QGIS sends the id as the string the URL has).
func sameID(raw json.RawMessage, fid int64) bool {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return true
	}
	want := strconv.FormatInt(fid, 10)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s == want
	}
	return string(raw) == want
}

// edit is who makes a write and why: the token's name, and the note of a
// Planmap-Note header.
//
// The note is UTF-8. A browser cannot put characters beyond Latin-1 in a
// header, so a note that is all ASCII and holds %XX escapes is
// percent-decoded (encodeURIComponent writes it so; a % of the note is
// then %25); raw UTF-8, as curl sends it, is taken as it is. It holds at
// most maxNote bytes and no control characters but tab and newline.
func edit(r *http.Request, p *layers.Principal) (layers.Edit, error) {
	note := r.Header.Get("Planmap-Note")
	if strings.Contains(note, "%") && isASCII(note) {
		if d, err := url.PathUnescape(note); err == nil {
			note = d
		}
	}
	note = strings.TrimSpace(note)
	switch {
	case !utf8.ValidString(note):
		return layers.Edit{}, layers.Errorf(layers.EINVALID, "Planmap-Note is not UTF-8: send it as UTF-8, or percent-encoded (encodeURIComponent)")
	case len(note) > maxNote:
		return layers.Edit{}, layers.Errorf(layers.EINVALID, "Planmap-Note is %d bytes long; at most %d are kept", len(note), maxNote)
	case strings.ContainsFunc(note, func(c rune) bool { return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f }):
		return layers.Edit{}, layers.Errorf(layers.EINVALID, "Planmap-Note holds a control character")
	}
	return layers.Edit{Author: p.Name, Note: note}, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// ifMatch evaluates a write's If-Match (RFC 9110 §13.1.1) against cur,
// the feature's current state (nil when it has none), and returns the
// version the store must still find when it writes: "" when the request
// has no If-Match, which QGIS never sends, and which is accepted. A
// mismatch is an EPRECONDITION error, with the current ETag set.
//
// Entity tags are compared by version: a W/ prefix is ignored, since a
// proxy weakens a tag when it compresses the response (nginx), and so is
// an encoding suffix a proxy appends (Apache's "-gzip" and "-br",
// nginx's ";gzip"); "*" matches any current feature, and a list matches
// if any of its tags does.
func ifMatch(w http.ResponseWriter, r *http.Request, cur *layers.Item) (string, error) {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		return "", nil
	}
	if cur == nil {
		return "", layers.Errorf(layers.EPRECONDITION, "If-Match is given, but the feature does not exist now")
	}
	v := cur.Version()
	for _, h := range vals {
		for t := range strings.SplitSeq(h, ",") {
			if t = strings.TrimSpace(t); t == "*" || tagMatches(t, v) {
				return v, nil
			}
		}
	}
	w.Header().Set("ETag", itemETag(cur))
	return "", layers.Errorf(layers.EPRECONDITION, "the feature has changed since the version If-Match names (%s); its ETag is now %s: read it again and redo your change on it", strings.Join(vals, ", "), itemETag(cur))
}

// tagMatches reports whether entity tag t names version v, as ifMatch
// compares them.
func tagMatches(t, v string) bool {
	t = strings.TrimPrefix(t, "W/")
	if len(t) < 2 || t[0] != '"' || t[len(t)-1] != '"' {
		return false
	}
	t = t[1 : len(t)-1]
	rest, ok := strings.CutPrefix(t, v)
	return ok && (rest == "" || rest[0] == '-' || rest[0] == ';')
}

// staleWrite completes the EPRECONDITION error of a write the store
// refused because the feature changed after ifMatch looked: with the
// feature's current ETag.
func (s *server) staleWrite(w http.ResponseWriter, r *http.Request, col string, fid int64, err error) error {
	if layers.ErrorCode(err) == layers.EPRECONDITION {
		if cur, e := s.store.Item(r.Context(), col, fid); e == nil {
			w.Header().Set("ETag", itemETag(cur))
		}
	}
	return err
}

// writeTarget is what every write begins with: the layer, who writes,
// and why. Writes take no query parameters.
func (s *server) writeTarget(r *http.Request) (*layers.Collection, layers.Edit, error) {
	col, err := s.lookup(r)
	if err != nil {
		return nil, layers.Edit{}, err
	}
	p, err := s.authorize(r, col.ID, false)
	if err != nil {
		return nil, layers.Edit{}, err
	}
	if err := checkParams(r.URL.Query()); err != nil {
		return nil, layers.Edit{}, err
	}
	e, err := edit(r, p)
	return col, e, err
}

// current returns the feature the path names and its id: nil and no
// error if it was deleted, when gone is true, as for a PUT, which brings
// it back.
func (s *server) current(r *http.Request, col *layers.Collection, gone bool) (*layers.Item, int64, error) {
	it, raw, err := s.lookupItem(r, col)
	fid, _ := strconv.ParseInt(raw, 10, 64)
	if gone && layers.ErrorCode(err) == layers.EGONE {
		return nil, fid, nil
	}
	return it, fid, err
}

// readFeature reads the feature of a POST (fid 0) or a PUT of feature fid
// from the request's body, in its Content-Crs.
func readFeature(w http.ResponseWriter, r *http.Request, fid int64) (layers.Feature, error) {
	body, err := readBody(w, r, mediaGeoJSON, mediaJSON)
	if err != nil {
		return layers.Feature{}, err
	}
	c, err := contentCRS(r)
	if err != nil {
		return layers.Feature{}, err
	}
	return decodeFeature(body, c, fid)
}

func (s *server) createItem(w http.ResponseWriter, r *http.Request) error {
	ed, _ := s.editor()
	col, e, err := s.writeTarget(r)
	if err != nil {
		return err
	}
	f, err := readFeature(w, r, 0)
	if err != nil {
		return err
	}
	it, err := ed.Create(r.Context(), col.ID, f, e)
	if err != nil {
		return err
	}
	w.Header().Set("Location", s.itemHref(r, col.ID, it.ID))
	return s.writeFeature(w, r, col.ID, it, http.StatusCreated)
}

func (s *server) replaceItem(w http.ResponseWriter, r *http.Request) error {
	ed, _ := s.editor()
	col, e, err := s.writeTarget(r)
	if err != nil {
		return err
	}
	cur, fid, err := s.current(r, col, true)
	if err != nil {
		return err
	}
	v, err := ifMatch(w, r, cur)
	if err != nil {
		return err
	}
	f, err := readFeature(w, r, fid)
	if err != nil {
		return err
	}
	it, err := ed.Replace(r.Context(), col.ID, fid, f, v, e)
	if err != nil {
		return s.staleWrite(w, r, col.ID, fid, err)
	}
	return s.writeFeature(w, r, col.ID, it, http.StatusOK)
}

// patchItem applies a JSON merge patch (RFC 7396) to the feature: null
// removes a property; a geometry replaces the geometry whole (in the
// Content-Crs), and the id cannot change. The feature merged is then
// written as a PUT of it would be. Without If-Match the patch still
// applies to the feature as it is when written: if another write came
// between, it is merged again onto that.
func (s *server) patchItem(w http.ResponseWriter, r *http.Request) error {
	ed, _ := s.editor()
	col, e, err := s.writeTarget(r)
	if err != nil {
		return err
	}
	cur, fid, err := s.current(r, col, false)
	if err != nil {
		return err
	}
	v, err := ifMatch(w, r, cur)
	if err != nil {
		return err
	}
	body, err := readBody(w, r, mediaMergePatch)
	if err != nil {
		return err
	}
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if err := layers.CheckJSON(body); err != nil {
		return err
	}
	var patch map[string]any
	if err := decodeNumbers(body, &patch); err != nil || patch == nil {
		return layers.Errorf(layers.EINVALID, "a merge patch of a feature is a JSON object")
	}
	if id, ok := patch["id"]; ok {
		raw, _ := json.Marshal(id)
		if id == nil || !sameID(raw, fid) {
			return layers.Errorf(layers.EINVALID, "the patch changes the id to %s; a feature's id cannot change", raw)
		}
		delete(patch, "id")
	}
	c := crsList[0]
	if _, ok := patch["geometry"]; ok {
		if c, err = contentCRS(r); err != nil {
			return err
		}
	}
	for try := 1; ; try++ {
		f, err := decodeFeature(mergeFeature(cur, patch), c, fid)
		if err != nil {
			return err
		}
		expect := v
		if expect == "" {
			expect = cur.Version()
		}
		it, err := ed.Replace(r.Context(), col.ID, fid, f, expect, e)
		if err == nil {
			return s.writeFeature(w, r, col.ID, it, http.StatusOK)
		}
		if v != "" || try == patchRetries || layers.ErrorCode(err) != layers.EPRECONDITION {
			return s.staleWrite(w, r, col.ID, fid, err)
		}
		if cur, _, err = s.current(r, col, false); err != nil {
			return err
		}
	}
}

// mergeFeature returns the GeoJSON of cur with patch merged in: the
// geometry, if the patch has one, replaced whole; everything else by RFC
// 7396.
func mergeFeature(cur *layers.Item, patch map[string]any) []byte {
	var doc map[string]any
	if err := decodeNumbers(cur.JSON, &doc); err != nil {
		panic(err) // the store's own encoding
	}
	rest := patch
	if g, ok := patch["geometry"]; ok {
		doc["geometry"] = g
		rest = make(map[string]any, len(patch))
		for k, v := range patch {
			if k != "geometry" {
				rest[k] = v
			}
		}
	}
	b, err := json.Marshal(mergePatch(doc, rest))
	if err != nil {
		panic(err) // decoded JSON encodes
	}
	return b
}

// mergePatch applies the JSON merge patch patch to target (RFC 7396 §2).
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = mergePatch(t[k], v)
	}
	return t
}

// decodeNumbers decodes JSON keeping numbers as they are written.
func decodeNumbers(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return dec.Decode(v)
}

func (s *server) deleteItem(w http.ResponseWriter, r *http.Request) error {
	ed, _ := s.editor()
	col, e, err := s.writeTarget(r)
	if err != nil {
		return err
	}
	cur, fid, err := s.current(r, col, false)
	if err != nil {
		return err
	}
	v, err := ifMatch(w, r, cur)
	if err != nil {
		return err
	}
	if err := ed.Delete(r.Context(), col.ID, fid, v, e); err != nil {
		return s.staleWrite(w, r, col.ID, fid, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// versionDoc is what a version of a feature says of itself, as the
// planmap:version member of the feature: a foreign member, so that the
// feature's properties stay its own and a version sent back by PUT
// restores it.
type versionDoc struct {
	Number int    `json:"number"`
	Op     string `json:"op"`
	From   string `json:"from"`
	// To is null while the version is current.
	To *string `json:"to"`
	// Author is null for a direct edit of the database (QGIS, GDAL).
	Author *string `json:"author"`
	Note   *string `json:"note"`
}

// versions answers a feature's history: a FeatureCollection of its
// versions, newest first, each the feature as it was (geometry and
// properties null for the time it was deleted) with planmap:version.
func (s *server) versions(w http.ResponseWriter, r *http.Request) error {
	ed, _ := s.editor()
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	raw := chi.URLParam(r, "featureId")
	notFound := layers.Errorf(layers.ENOTFOUND, "collection %s never had a feature %q", col.ID, raw)
	fid, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || strconv.FormatInt(fid, 10) != raw {
		return notFound
	}
	vs, err := ed.Versions(r.Context(), col.ID, fid)
	if layers.ErrorCode(err) == layers.ENOTFOUND {
		return notFound
	}
	if err != nil {
		return err
	}
	tag := []string{strconv.Itoa(len(vs))}
	if len(vs) > 0 {
		tag = append(tag, vs[0].From.UTC().Format(timeFormat))
	}
	if notModified(w, r, s.etag(r, tag...)) {
		return nil
	}
	href := s.itemHref(r, col.ID, fid)
	featureLinks := []link{
		{Href: href, Rel: relLatest, Type: mediaGeoJSON, Title: "the feature now"},
		{Href: href + "/versions", Rel: relVersions, Type: mediaGeoJSON, Title: "all its versions"},
	}
	b := []byte(`{"type":"FeatureCollection","numberReturned":`)
	b = strconv.AppendInt(b, int64(len(vs)), 10)
	b = append(b, `,"links":`...)
	b = appendLinks(b, []link{
		{Href: href + "/versions", Rel: "self", Type: mediaGeoJSON, Title: "this document"},
		featureLinks[0],
		{Href: s.base(r) + "/collections/" + url.PathEscape(col.ID), Rel: "collection", Type: mediaJSON, Title: "the layer"},
	})
	b = append(b, `,"features":[`...)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		if v.Item != nil {
			b = append(b, v.Item.JSON[:len(v.Item.JSON)-1]...)
		} else {
			b = append(b, `{"type":"Feature","id":`...)
			b = strconv.AppendInt(b, fid, 10)
			b = append(b, `,"properties":null,"geometry":null`...)
		}
		d := versionDoc{Number: v.Number, Op: string(v.Op), From: v.From.UTC().Format(timeFormat)}
		if !v.To.IsZero() {
			to := v.To.UTC().Format(timeFormat)
			d.To = &to
		}
		if v.Author != "" {
			d.Author = &v.Author
		}
		if v.Note != "" {
			d.Note = &v.Note
		}
		vb, err := json.Marshal(d)
		if err != nil {
			return err
		}
		b = append(b, `,"planmap:version":`...)
		b = append(b, vb...)
		b = append(b, `,"links":`...)
		b = appendLinks(b, featureLinks)
		b = append(b, '}')
	}
	b = append(b, "]}\n"...)
	crsList[0].setGeoJSON(w.Header())
	_, err = w.Write(b)
	return err
}

// timeFormat is how versions give times: RFC 3339 in UTC, to the
// millisecond.
const timeFormat = "2006-01-02T15:04:05.000Z"

// linkedError is an error whose answer links to where to go on: a
// deleted feature's to its versions. writeError puts the links in a Link
// header and in the problem document.
type linkedError struct {
	err   error
	links []link
}

func (e *linkedError) Error() string { return e.err.Error() }
func (e *linkedError) Unwrap() error { return e.err }

// goneError links the EGONE error of a deleted feature to its versions.
func (s *server) goneError(r *http.Request, col string, fid int64, err error) error {
	// nil first: ErrorCode's errors.As puts its target on the heap, on
	// every feature served.
	if err == nil || layers.ErrorCode(err) != layers.EGONE {
		return err
	}
	if _, ok := s.editor(); !ok {
		return err
	}
	return &linkedError{err: err, links: []link{{
		Href: s.itemHref(r, col, fid) + "/versions", Rel: relVersions, Type: mediaGeoJSON, Title: "the feature's versions, up to its deletion",
	}}}
}

// linkHeader is the Link header (RFC 8288) of links.
func linkHeader(links []link) string {
	parts := make([]string, len(links))
	for i, l := range links {
		parts[i] = fmt.Sprintf("<%s>; rel=%q", l.Href, l.Rel)
		if l.Type != "" {
			parts[i] += fmt.Sprintf("; type=%q", l.Type)
		}
	}
	return strings.Join(parts, ", ")
}
