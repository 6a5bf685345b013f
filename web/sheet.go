package web

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers"
)

// neighbourhood is how far around a plot its sheet looks for neighbours,
// in metres: what touches it or lies within this distance.
const neighbourhood = 200.0

// sourceArticle is the article the seed layers were drawn from; their
// source property holds its sentences.
var sourceArticle = struct{ Title, Date, Authors string }{
	Title:   "海门港新区：港产城融合新高地",
	Date:    "2020年末 late 2020",
	Authors: "赵胜杰 海轩",
}

// sheetPage is what the plot sheet (地块图则) shows of one feature.
type sheetPage struct {
	Collection *layers.Collection
	Item       *layers.Item
	NameZh     string
	NameEn     string
	Class      *layers.Class
	Code       string // landuse_code
	GB50137    string
	Status     layers.Text
	AreaHa     string
	AreaMu     string
	AreaM2     string
	LengthM    string
	Figures    []sheetFigure
	Source     string
	Article    any
	Confidence layers.Text
	NoteZh     string
	NoteEn     string
	Location   svgMap
	CloseUp    svgMap
	Neighbours []neighbour
	More       int // neighbours not listed
	Within     []neighbour
	MapURL     string
	ItemURL    string
}

type sheetFigure struct {
	Label layers.Text
	Value string
}

// neighbour is a feature near the plot.
type neighbour struct {
	Layer    layers.Text
	Name     string
	Class    string
	Distance float64 // metres; 0 touches
	Href     string
	Number   int // its number on the close-up
}

var statusNames = map[string]layers.Text{
	"planned":            {Zh: "规划", En: "planned"},
	"signed":             {Zh: "已签约", En: "signed"},
	"under_construction": {Zh: "在建", En: "under construction"},
	"in_operation":       {Zh: "已建成", En: "in operation"},
}

var confidenceNames = map[string]layers.Text{
	"high": {Zh: "高", En: "high"}, "medium": {Zh: "中", En: "medium"}, "low": {Zh: "低", En: "low"},
}

// sheetListed is how many neighbours a sheet lists: more would not fit
// on its one page.
const sheetListed = 12

// sheet answers /collections/{id}/items/{fid}/sheet: one printable A4
// page about one feature, drawn on the server (maps as SVG), so that it
// prints the same in every browser and needs no script.
func (s *server) sheet(w http.ResponseWriter, r *http.Request) error {
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	it, raw, err := s.lookupItem(r, col)
	if err != nil {
		return err
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	if notModified(w, r, s.etag(r, catalogVersion(cat))) {
		return nil
	}
	p := sheetPage{Collection: col, Item: it, Article: sourceArticle}
	str := func(name string) string { return propString(it, name) }
	p.NameZh, p.NameEn = str("name_zh"), str("name_en")
	p.Code, p.GB50137 = str("landuse_code"), str(layers.ClassField)
	if c, ok := layers.ClassOf(p.GB50137); ok {
		p.Class = &c
	}
	if st := str("status"); st != "" {
		p.Status = statusNames[st]
		if p.Status.Zh == "" {
			p.Status = layers.Text{Zh: st, En: st}
		}
	}
	if c := str("position_confidence"); c != "" {
		p.Confidence = confidenceNames[c]
		if p.Confidence.Zh == "" {
			p.Confidence = layers.Text{Zh: c, En: c}
		}
	}
	p.NoteZh, p.NoteEn, p.Source = str("position_note_zh"), str("position_note"), str("source")
	// Decoded once: a cached item decodes its geometry on every call.
	g := it.Geometry()
	if a := geo.Area(g); a > 0 {
		p.AreaM2 = strconv.FormatFloat(math.Round(a), 'f', 0, 64)
		p.AreaHa = strconv.FormatFloat(a/1e4, 'f', 2, 64)
		p.AreaMu = strconv.FormatFloat(a/geo.SquareMetresPerMu, 'f', 1, 64)
	}
	if l := geo.Length(g); l > 0 && !isPolygons(col.Layer) {
		p.LengthM = strconv.FormatFloat(math.Round(l), 'f', 0, 64)
	}
	shown := map[string]bool{"name_zh": true, "name_en": true, "landuse_code": true, layers.ClassField: true, "status": true,
		"source": true, "position_confidence": true, "position_note": true, "position_note_zh": true}
	for _, fd := range col.Schema {
		v := it.Value(fd.Name)
		if shown[fd.Name] || v == nil {
			continue
		}
		p.Figures = append(p.Figures, sheetFigure{Label: fd.Description, Value: fmt.Sprint(v)})
	}

	base := s.base(r)
	p.ItemURL = base + "/collections/" + col.ID + "/items/" + raw
	c := it.Bound.Center()
	p.MapURL = fmt.Sprintf("%s/#map=16/%.5f/%.5f", s.basePath, c[1], c[0])

	// The close-up: the plot and everything within the neighbourhood.
	around := grow(it.Bound, neighbourhood)
	near, err := s.featuresIn(r.Context(), cat, []orb.Bound{around})
	if err != nil {
		return err
	}
	var closeUp []drawn
	for _, n := range near {
		if n.col.ID == col.ID && n.it.ID == it.ID {
			continue
		}
		ng := n.it.Geometry()
		d := geo.Separation(g, ng)
		if d > neighbourhood {
			closeUp = append(closeUp, drawn{n.col, n.it, 0})
			continue
		}
		nb := neighbour{Layer: n.col.Title, Name: featureName(n.it), Class: propString(n.it, layers.ClassField), Distance: math.Round(d),
			Href: s.basePath + "/collections/" + n.col.ID + "/items/" + strconv.FormatInt(n.it.ID, 10) + "/sheet"}
		// What holds the plot whole (the district, a zone) is where it
		// lies, not a neighbour.
		if d == 0 && boundWithin(it.Bound, n.it.Bound) && holds(ng, g) {
			p.Within = append(p.Within, nb)
			continue
		}
		p.Neighbours = append(p.Neighbours, nb)
		closeUp = append(closeUp, drawn{n.col, n.it, 0})
	}
	slices.SortStableFunc(p.Neighbours, func(a, b neighbour) int { return cmp.Compare(a.Distance, b.Distance) })
	if len(p.Neighbours) > sheetListed {
		p.More = len(p.Neighbours) - sheetListed
		p.Neighbours = p.Neighbours[:sheetListed]
	}
	for i := range p.Neighbours {
		p.Neighbours[i].Number = i + 1
	}
	// Number the listed neighbours on the close-up.
	for i := range closeUp {
		for _, nb := range p.Neighbours {
			if nb.Href == s.basePath+"/collections/"+closeUp[i].col.ID+"/items/"+strconv.FormatInt(closeUp[i].it.ID, 10)+"/sheet" {
				closeUp[i].number = nb.Number
			}
		}
	}
	p.CloseUp = drawMap(around, 400, 400, closeUp, drawn{col, it, 0}, nil, true)

	// The location map: the district, the plot in it, and the close-up's
	// frame.
	district := districtBound(cat)
	all, err := s.featuresIn(r.Context(), cat, []orb.Bound{district}, "context")
	if err != nil {
		return err
	}
	var context []drawn
	for _, n := range all {
		if n.col.ID == col.ID && n.it.ID == it.ID {
			continue
		}
		context = append(context, drawn{n.col, n.it, 0})
	}
	frame := around
	p.Location = drawMap(grow(district, 300), 400, 400, context, drawn{col, it, 0}, &frame, false)

	title := p.NameZh
	if title == "" {
		title = col.Title.Zh + " " + raw
	}
	return s.render(w, r, "sheet", "地块图则 "+title, p)
}

func propString(it *layers.Item, name string) string {
	v, _ := it.Value(name).(string)
	return v
}

func featureName(it *layers.Item) string {
	zh, en := propString(it, "name_zh"), propString(it, "name_en")
	switch {
	case zh != "" && en != "":
		return zh + " " + en
	case zh != "":
		return zh
	case en != "":
		return en
	}
	return "#" + strconv.FormatInt(it.ID, 10)
}

func boundWithin(inner, outer orb.Bound) bool {
	return outer.Min[0] <= inner.Min[0] && outer.Min[1] <= inner.Min[1] && inner.Max[0] <= outer.Max[0] && inner.Max[1] <= outer.Max[1]
}

// holds reports whether every vertex of inner lies in outer (an area).
func holds(outer, inner orb.Geometry) bool {
	if !strings.Contains(outer.GeoJSONType(), "Polygon") {
		return false
	}
	ok := true
	var visit func(g orb.Geometry)
	visit = func(g orb.Geometry) {
		switch g := g.(type) {
		case orb.Point:
			ok = ok && geo.Separation(outer, g) == 0
		case orb.MultiPoint:
			for _, p := range g {
				visit(p)
			}
		case orb.LineString:
			visit(orb.MultiPoint(g))
		case orb.MultiLineString:
			for _, l := range g {
				visit(l)
			}
		case orb.Polygon:
			for _, r := range g {
				visit(orb.MultiPoint(r))
			}
		case orb.MultiPolygon:
			for _, p := range g {
				visit(p)
			}
		}
	}
	visit(inner)
	return ok
}

// grow returns b widened by m metres on every side.
func grow(b orb.Bound, m float64) orb.Bound {
	dLat := m / 111195.0
	dLon := dLat / math.Max(0.01, math.Cos(b.Center()[1]*math.Pi/180))
	return orb.Bound{Min: orb.Point{b.Min[0] - dLon, b.Min[1] - dLat}, Max: orb.Point{b.Max[0] + dLon, b.Max[1] + dLat}}
}

// districtBound is the extent of the boundary layer, else of every layer
// but the regional context, as the web map's whole-district view is.
func districtBound(cat *layers.Catalog) orb.Bound {
	if col, ok := cat.Collection("boundary"); ok && col.Count > 0 {
		return col.Extent
	}
	var b orb.Bound
	first := true
	for _, col := range cat.Collections {
		if col.ID == "context" || col.Count == 0 {
			continue
		}
		if first {
			b, first = col.Extent, false
		} else {
			b = b.Union(col.Extent)
		}
	}
	return b
}

type found struct {
	col *layers.Collection
	it  *layers.Item
}

// featuresIn reads the features of every layer but those skipped that
// the boxes select, in drawing order, a page at a time.
func (s *server) featuresIn(ctx context.Context, cat *layers.Catalog, boxes []orb.Bound, skip ...string) ([]found, error) {
	var out []found
	for _, col := range cat.Collections {
		if slices.Contains(skip, col.ID) {
			continue
		}
		after := int64(0)
		for {
			page, _, err := s.store.Items(ctx, col.ID, layers.Filter{BBoxes: boxes}, layers.Page{After: after, Limit: maxLimit})
			if err != nil {
				return nil, err
			}
			for _, it := range page {
				out = append(out, found{col, it})
			}
			if len(page) < maxLimit {
				break
			}
			after = page[len(page)-1].ID
		}
	}
	return out, nil
}
