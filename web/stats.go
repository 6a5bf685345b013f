package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"planmap/layers"
)

// relStatistics is the link relation of the statistics resources. Neither
// IANA nor OGC registers one for statistics, and an unregistered relation
// must be a URI (RFC 8288 §2.1.2): this one is planmap's own.
const relStatistics = "urn:planmap:rel:statistics"

// mediaCSV is the media type of the statistics as a table.
const mediaCSV = "text/csv; charset=utf-8"

// statsPage is how many features the statistics read from the store at a
// time: the tally keeps only its groups, so memory stays bounded however
// many features match, at no more than one request for items may hold.
// Smaller pages cost more with a bbox, whose matches the store finds
// again for every page (1,000 took three times as long as 10,000 for
// BenchmarkStatsBBox).
const statsPage = maxLimit

// statsFormat reads f of a statistics request: JSON (the default) or CSV.
func statsFormat(q url.Values) (string, error) {
	if len(q["f"]) > 1 {
		return "", layers.Errorf(layers.EINVALID, "query parameter f is given %d times; give it once", len(q["f"]))
	}
	switch f := q.Get("f"); f {
	case "", "json":
		return "json", nil
	case "csv":
		return "csv", nil
	default:
		return "", layers.Errorf(layers.EINVALID, "f=%s is not a format the statistics come in; use f=json or f=csv", f)
	}
}

// tally adds every feature of layer id that f selects to st, as of at
// (now when zero), reading the store a page at a time by feature id; each
// is also given to also, when there is one.
func (s *server) tally(ctx context.Context, id string, at time.Time, f layers.Filter, st *layers.Stats, also ...func(*layers.Item)) error {
	after := int64(0)
	for {
		page, _, err := s.itemsAt(ctx, id, at, f, layers.Page{After: after, Limit: statsPage, Uncounted: true})
		if err != nil {
			return err
		}
		for _, it := range page {
			st.Add(id, it)
			for _, fn := range also {
				fn(it)
			}
		}
		if len(page) < statsPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// measureKinds says which measures a statistics document carries.
type measureKinds struct{ area, length bool }

func kindsOf(col *layers.Collection) measureKinds {
	return measureKinds{area: isPolygons(col.Layer), length: col.IsLine()}
}

func isPolygons(l *layers.Layer) bool { return strings.Contains(l.GeometryType, "Polygon") }

// statsMeasures is a row of statistics as JSON: the count, and the
// measures the layers have, rounded as the features' own are.
type statsMeasures struct {
	Count   int      `json:"count"`
	AreaM2  *float64 `json:"geodesic_area_m2,omitempty"`
	AreaHa  *float64 `json:"geodesic_area_ha,omitempty"`
	AreaMu  *float64 `json:"geodesic_area_mu,omitempty"`
	LengthM *float64 `json:"geodesic_length_m,omitempty"`
}

func measuresOf(t layers.Tally, k measureKinds) statsMeasures {
	m := statsMeasures{Count: t.Count}
	if k.area {
		m.AreaM2, m.AreaHa, m.AreaMu = rounded(t.AreaM2, 1), rounded(t.AreaHa(), 4), rounded(t.AreaMu(), 2)
	}
	if k.length {
		m.LengthM = rounded(t.LengthM, 1)
	}
	return m
}

func rounded(v float64, prec int) *float64 {
	p := math.Pow(10, float64(prec))
	r := math.Round(v*p) / p
	return &r
}

// statsGroup is one group of a statistics document.
type statsGroup struct {
	// Key is the group's value: null for features without one.
	Key any `json:"key"`
	// Name is the name of a land-use class (/stats only).
	Name *layers.Text `json:"name,omitempty"`
	statsMeasures
	Collections []string `json:"collections,omitempty"`
}

// statsDoc is the JSON of /collections/{id}/stats and /stats.
type statsDoc struct {
	Collection  string   `json:"collection,omitempty"`
	Collections []string `json:"collections,omitempty"`
	// GroupBy is the field grouped by; null when all is one group.
	GroupBy *string `json:"groupBy"`
	// BBox are the boxes asked for, in CRS84 (two across the antimeridian).
	BBox          [][4]float64   `json:"bbox,omitempty"`
	Filter        map[string]any `json:"filter,omitempty"`
	ClippedToBBox bool           `json:"clippedToBBox"`
	FeaturesCut   int            `json:"featuresCut"`
	Note          string         `json:"note"`
	Groups        []statsGroup   `json:"groups"`
	Total         statsMeasures  `json:"total"`
	Skipped       []skippedLayer `json:"skipped,omitempty"`
	Links         []link         `json:"links"`

	// AsOf is the time asked about (as-of, Accept-Datetime); absent: now.
	AsOf *time.Time `json:"asOf,omitempty"`
	// Comparison is the comparison with an earlier time (compare).
	Comparison *statsComparison `json:"comparison,omitempty"`
}

type skippedLayer struct {
	Collection string `json:"collection"`
	Reason     string `json:"reason"`
}

// statsNote says in words how the numbers were made.
func statsNote(f layers.Filter, cut int) string {
	n := "Counts of the features selected, and the geodesic area (m², ha, 亩) or length (m) of their exact geometries on the WGS 84 ellipsoid. " +
		"所选要素的个数，及其精确几何在WGS 84椭球面上的面积（平方米、公顷、亩）或长度（米）。"
	if len(f.BBoxes) > 0 {
		n += fmt.Sprintf(" Only what lies inside the bbox is measured: %d features cut by it are counted, with only their part inside it measured. "+
			"仅计范围框内的部分：被范围框裁切的%d个要素计入个数，面积或长度只计框内部分。", cut, cut)
	}
	return n
}

func bboxesOf(f layers.Filter) [][4]float64 {
	var out [][4]float64
	for _, b := range f.BBoxes {
		out = append(out, [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]})
	}
	return out
}

// statsLinks are the links of a statistics document: itself as JSON and
// as CSV, and where it comes from.
func statsLinks(href string, q url.Values, up link) []link {
	q = without(q, "f")
	return []link{
		{Href: withQuery(href, q, "json"), Rel: "self", Type: mediaJSON, Title: "these statistics"},
		{Href: withQuery(href, q, "csv"), Rel: "alternate", Type: "text/csv", Title: "these statistics as CSV (UTF-8 with BOM, for Excel)"},
		up,
	}
}

// statsParams are the parameters of /collections/{id}/stats besides the
// layer's fields.
var statsParams = []string{"f", "bbox", "bbox-crs", "groupby", asOfParam, compareParam}

// collectionStats answers /collections/{id}/stats: the features a bbox
// and field values select, counted and measured per value of groupby.
func (s *server) collectionStats(w http.ResponseWriter, r *http.Request) error {
	at, err := s.parseAsOf(w, r)
	if err != nil {
		return err
	}
	col, err := s.lookupAt(r, at)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	format, err := statsFormat(q)
	if err != nil {
		return err
	}
	allowed := slices.Clone(statsParams)
	for _, fd := range col.Schema {
		allowed = append(allowed, fd.Name)
	}
	// f is checked above: checkParams knows only json and html.
	if err := checkParams(without(q, "f"), allowed...); err != nil {
		return err
	}
	f, err := parseFilter(q, col)
	if err != nil {
		return err
	}
	fields, err := parseGroupBy(q)
	if err != nil {
		return err
	}
	st, err := layers.NewFieldsStats(col.Layer, fields, f.BBoxes)
	if err != nil {
		return err
	}
	earlier, err := s.parseCompare(q, at)
	if err != nil {
		return err
	}
	if notModified(w, r, s.etag(r, col.Version, asOfVersion(at))) {
		return nil
	}
	answer := func(w http.ResponseWriter) error {
		return s.answerStats(w, r, col, format, fields, f, st, at, earlier)
	}
	// What a bbox selects changes with every view: only the answers
	// about the whole layer (or the features some values select), which
	// every visitor's map asks for alike, are kept.
	if s.statsCache == nil || len(f.BBoxes) > 0 {
		return answer(w)
	}
	key := strings.Join([]string{col.ID, col.Version, asOfVersion(at), s.base(r), r.URL.RawQuery}, "\x00")
	a, err := s.statsCache.get(r.Context(), key, answer)
	if err != nil {
		return err
	}
	return a.replay(w)
}

// parseGroupBy reads groupby: the fields to group by, comma separated (at
// most layers.MaxGroupBy); none when it is absent.
func parseGroupBy(q url.Values) ([]string, error) {
	if !q.Has("groupby") {
		return nil, nil
	}
	if len(q["groupby"]) > 1 {
		return nil, layers.Errorf(layers.EINVALID, "query parameter groupby is given %d times; give it once, with the fields comma separated (groupby=status,%s)", len(q["groupby"]), layers.ClassField)
	}
	v := q.Get("groupby")
	if v == "" {
		return nil, layers.Errorf(layers.EINVALID, "groupby is empty: name a field (or two, comma separated), or leave groupby out for one total")
	}
	fields := strings.Split(v, ",")
	for i, fd := range fields {
		fields[i] = strings.TrimSpace(fd)
		if fields[i] == "" {
			return nil, layers.Errorf(layers.EINVALID, "groupby=%s names an empty field; separate the fields by one comma", v)
		}
	}
	return fields, nil
}

// answerStats tallies the features of col that f selects into st (made
// for fields) as of at, compared with earlier when it is not zero, and
// writes the statistics in format to w.
func (s *server) answerStats(w http.ResponseWriter, r *http.Request, col *layers.Collection, format string, fields []string, f layers.Filter, st *layers.Stats, at, earlier time.Time) error {
	q := r.URL.Query()
	var cmp *comparing
	if !earlier.IsZero() {
		var err error
		if cmp, err = s.tallyEarlier(r.Context(), col, fields, f, earlier); err != nil {
			return err
		}
	}
	if err := s.tally(r.Context(), col.ID, at, f, st, cmp.add); err != nil {
		return err
	}
	kinds := kindsOf(col)
	base := s.base(r)
	colHref := base + "/collections/" + url.PathEscape(col.ID)
	doc := statsDoc{
		Collection: col.ID, BBox: bboxesOf(f), Filter: f.Equals,
		ClippedToBBox: len(f.BBoxes) > 0, FeaturesCut: st.Cut(), Note: statsNote(f, st.Cut()),
		Groups: []statsGroup{}, Total: measuresOf(st.Total(), kinds),
		Links: statsLinks(colHref+"/stats", q, link{Href: colHref, Rel: "collection", Type: mediaJSON, Title: "the layer"}),
	}
	if len(fields) > 0 {
		groupBy := strings.Join(fields, ",")
		doc.GroupBy = &groupBy
	}
	if !at.IsZero() {
		doc.AsOf = &at
	}
	for _, g := range st.Groups() {
		doc.Groups = append(doc.Groups, statsGroup{Key: g.Key, statsMeasures: measuresOf(g.Tally, kinds)})
	}
	if cmp != nil {
		doc.Comparison = cmp.doc(st, kinds)
	}
	if format == "csv" && cmp != nil {
		return writeComparisonCSV(w, col.ID+"-stats.csv", doc, kinds, fields)
	}
	if format == "csv" {
		if len(fields) == 0 {
			return writeStatsCSV(w, col.ID+"-stats.csv", doc, kinds, []string{"group 分组"}, func(statsGroup) []string {
				return []string{"all 全部"}
			})
		}
		return writeStatsCSV(w, col.ID+"-stats.csv", doc, kinds, fields, func(g statsGroup) []string {
			return keyCells(g.Key)
		})
	}
	return writeJSON(w, http.StatusOK, doc)
}

// keyCells are the CSV cells of a group's key: one per field grouped by.
func keyCells(k any) []string {
	if p, ok := k.(layers.Pair); ok {
		return []string{keyText(p[0]), keyText(p[1])}
	}
	return []string{keyText(k)}
}

// districtStats answers /stats: the features of several layers (every
// polygon layer by default) that a bbox selects, counted and measured per
// GB 50137 major class, for the whole district or part of it.
func (s *server) districtStats(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	format, err := statsFormat(q)
	if err != nil {
		return err
	}
	if err := checkParams(without(q, "f"), "f", "bbox", "bbox-crs", "collections", asOfParam); err != nil {
		return err
	}
	at, err := s.parseAsOf(w, r)
	if err != nil {
		return err
	}
	var f layers.Filter
	if f.BBoxes, err = parseBBox(q.Get("bbox"), q.Has("bbox"), q.Get("bbox-crs")); err != nil {
		return err
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	var cols []*layers.Collection
	if q.Has("collections") {
		for _, id := range strings.Split(q.Get("collections"), ",") {
			col, ok := cat.Collection(strings.TrimSpace(id))
			if !ok {
				return layers.Errorf(layers.EINVALID, "collections=%s: there is no collection %q; /collections lists them", q.Get("collections"), id)
			}
			if !slices.Contains(cols, col) {
				cols = append(cols, col)
			}
		}
	} else {
		for _, col := range cat.Collections {
			if isPolygons(col.Layer) {
				cols = append(cols, col)
			}
		}
	}
	if notModified(w, r, s.etag(r, catalogVersion(cat), asOfVersion(at))) {
		return nil
	}
	st := layers.NewClassStats(f.BBoxes)
	classField := layers.ClassField
	doc := statsDoc{Collections: []string{}, GroupBy: &classField, BBox: bboxesOf(f), ClippedToBBox: len(f.BBoxes) > 0, Groups: []statsGroup{}}
	if !at.IsZero() {
		doc.AsOf = &at
	}
	var kinds measureKinds
	for _, col := range cols {
		switch {
		case !col.HasClass():
			doc.Skipped = append(doc.Skipped, skippedLayer{col.ID, "it has no " + layers.ClassField + " field"})
			continue
		case col.IsPoint():
			doc.Skipped = append(doc.Skipped, skippedLayer{col.ID, "it holds points, which have no area"})
			continue
		}
		kinds.area = kinds.area || isPolygons(col.Layer)
		kinds.length = kinds.length || col.IsLine()
		if err := s.tally(r.Context(), col.ID, at, f, st); err != nil {
			return err
		}
		doc.Collections = append(doc.Collections, col.ID)
	}
	doc.FeaturesCut = st.Cut()
	doc.Note = statsNote(f, st.Cut()) + " Grouped by the major class of " + layers.ClassField + " (R2 counts as R); features without a known class are grouped under null. " +
		"Layers may overlap (the district boundary holds the rest): the total counts overlapping land once per layer. " +
		"按" + layers.ClassField + "的大类分组（R2计入R），无有效分类的要素归入null。图层之间可能重叠（如规划范围包含其他图层），合计按图层分别计入重叠部分。"
	doc.Total = measuresOf(st.Total(), kinds)
	for _, g := range st.Groups() {
		sg := statsGroup{Key: g.Key, statsMeasures: measuresOf(g.Tally, kinds), Collections: g.Layers}
		if code, ok := g.Key.(string); ok {
			if c, ok := layers.ClassOf(code); ok {
				sg.Name = &c.Name
			}
		}
		doc.Groups = append(doc.Groups, sg)
	}
	base := s.base(r)
	doc.Links = statsLinks(base+"/stats", q, link{Href: base + "/collections", Rel: "data", Type: mediaJSON, Title: "the layers"})
	if format == "csv" {
		return writeStatsCSV(w, "planmap-stats.csv", doc, kinds,
			[]string{"class 用地大类", "name 名称", "name (en)"},
			func(g statsGroup) []string {
				row := []string{keyText(g.Key), "", ""}
				if g.Name != nil {
					row[1], row[2] = g.Name.Zh, g.Name.En
				}
				return row
			}, "collections 图层")
	}
	return writeJSON(w, http.StatusOK, doc)
}

// writeStatsCSV writes doc as a table Excel opens as it is: UTF-8 with a
// byte order mark (without one Excel reads Chinese as the local code
// page), CRLF line ends, a header row naming each column with its unit,
// one row per group and a last row of totals. keyCols and key give the
// columns that name a group; a last column lists each group's layers when
// collections is given.
func writeStatsCSV(w http.ResponseWriter, filename string, doc statsDoc, kinds measureKinds, keyCols []string, key func(statsGroup) []string, collections ...string) error {
	h := w.Header()
	h.Set("Content-Type", mediaCSV)
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	if _, err := w.Write([]byte("\ufeff")); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := append(slices.Clone(keyCols), "count 个数")
	if kinds.area {
		header = append(header, "area (m²) 面积（平方米）", "area (ha) 面积（公顷）", "area (亩) 面积（亩）")
	}
	if kinds.length {
		header = append(header, "length (m) 长度（米）")
	}
	header = append(header, collections...)
	cw.Write(header)
	row := func(lead []string, m statsMeasures, layers []string) {
		rec := append(lead, strconv.Itoa(m.Count))
		for _, v := range []struct {
			p    *float64
			prec int
		}{{m.AreaM2, 1}, {m.AreaHa, 4}, {m.AreaMu, 2}, {m.LengthM, 1}} {
			if v.p != nil {
				rec = append(rec, strconv.FormatFloat(*v.p, 'f', v.prec, 64))
			}
		}
		if len(collections) > 0 {
			rec = append(rec, strings.Join(layers, " "))
		}
		cw.Write(rec)
	}
	for _, g := range doc.Groups {
		row(key(g), g.statsMeasures, g.Collections)
	}
	total := make([]string, len(keyCols))
	total[0] = "total 合计"
	if doc.ClippedToBBox {
		total[0] = "total inside bbox 范围框内合计"
	}
	row(total, doc.Total, doc.Collections)
	cw.Flush()
	return cw.Error()
}

// keyText is a group's key as a CSV cell: empty for null. Text that a
// spreadsheet would take for a formula (=, +, -, @ first) gets a leading
// apostrophe, so that a value someone typed stays data.
func keyText(k any) string {
	switch k := k.(type) {
	case nil:
		return ""
	case string:
		if k != "" && strings.ContainsRune("=+-@\t\r", rune(k[0])) {
			return "'" + k
		}
		return k
	case int64:
		return strconv.FormatInt(k, 10)
	case bool:
		return strconv.FormatBool(k)
	}
	return fmt.Sprint(k)
}
