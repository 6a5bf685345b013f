package web

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"planmap/geo"
	"planmap/layers"
	"planmap/web/tiles"
)

// Vector tiles, OGC API – Tiles 1.0 (core, tileset, tilesets-list,
// geodata-tilesets, dataset-tilesets, mvt, oas30) on the WebMercatorQuad
// tile matrix set. Paths put the row (y) before the column (x), as the
// standard does (INTEROP.md §8):
//
//	GET /tileMatrixSets                                       the tile matrix sets (one)
//	GET /tileMatrixSets/WebMercatorQuad                       its definition
//	GET /tiles                                                the dataset's tilesets (one)
//	GET /tiles/WebMercatorQuad                                its metadata: URL template, zoom range, layers
//	GET /tiles/WebMercatorQuad/tilejson.json                  the same as TileJSON 3.0
//	GET /tiles/WebMercatorQuad/{z}/{y}/{x}                    a tile of every layer, an MVT layer each
//	GET /collections/{collectionId}/tiles                     one layer's tilesets (one)
//	GET /collections/{collectionId}/tiles/WebMercatorQuad     its metadata
//	GET /collections/{collectionId}/tiles/WebMercatorQuad/tilejson.json
//	GET /collections/{collectionId}/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}
//
// A tile is MVT (application/vnd.mapbox-vector-tile) with a strong ETag
// (304 on If-None-Match), 204 when it holds nothing, 400 for a z, y or x
// that is not a whole number, 404 outside the matrix set's range.

const (
	mediaMVT        = "application/vnd.mapbox-vector-tile"
	mediaTileJSON   = "application/json"
	tmsID           = "WebMercatorQuad"
	tmsURI          = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
	crs3857         = "http://www.opengis.net/def/crs/EPSG/0/3857"
	relTilingScheme = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
	relTilesVector  = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
	relDataset      = "http://www.opengis.net/def/rel/ogc/1.0/dataset"
	relGeodata      = "http://www.opengis.net/def/rel/ogc/1.0/geodata"
	relTMS          = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
)

// tileConformance are the classes of OGC API – Tiles 1.0 served.
var tileConformance = []string{
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
	"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
}

// tileServer serves the tiles of a server's store through one cache.
type tileServer struct {
	*server
	cache *tiles.Cache
}

// tileRoutes adds the vector tile routes to r.
func (s *server) tileRoutes(r chi.Router) {
	budget := s.opt.TileCacheBytes
	if budget == 0 {
		budget = tiles.DefaultBudget
	}
	ts := &tileServer{server: s, cache: tiles.NewCache(s.store, max(budget, 0))}
	s.tileCache = ts.cache
	r.Get("/tileMatrixSets", s.handle(ts.matrixSets))
	r.Get("/tileMatrixSets/{tileMatrixSetId}", s.handle(ts.matrixSet))
	r.Get("/tiles", s.handle(ts.tilesets))
	r.Get("/tiles/{tileMatrixSetId}", s.handle(ts.tileset))
	r.Get("/tiles/{tileMatrixSetId}/tilejson.json", s.handle(ts.tileJSON))
	r.Get("/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", s.handle(ts.tile))
	r.Get("/collections/{collectionId}/tiles", s.handle(ts.tilesets))
	r.Get("/collections/{collectionId}/tiles/{tileMatrixSetId}", s.handle(ts.tileset))
	r.Get("/collections/{collectionId}/tiles/{tileMatrixSetId}/tilejson.json", s.handle(ts.tileJSON))
	r.Get("/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}", s.handle(ts.tile))
}

// tileLinks are the links of a collection (or, for nil, of the landing
// page) to its tiles.
func tileLinks(base string, col *layers.Collection) []link {
	href := base
	if col != nil {
		href += "/collections/" + url.PathEscape(col.ID)
	}
	return []link{
		{Href: href + "/tiles", Rel: relTilesVector, Type: mediaJSON, Title: "vector tiles (MVT)"},
		{Href: href + "/tiles/" + tmsID + "/{tileMatrix}/{tileRow}/{tileCol}", Rel: "item", Type: mediaMVT, Title: "a vector tile (MVT) of WebMercatorQuad; templated"},
	}
}

// xyzURL is the tile URL template with {z}/{y}/{x}, as QGIS and TileJSON
// clients take it.
func xyzURL(base string, col *layers.Collection) string {
	href := base
	if col != nil {
		href += "/collections/" + url.PathEscape(col.ID)
	}
	return href + "/tiles/" + tmsID + "/{z}/{y}/{x}"
}

// scope returns the collection a tiles path names, nil for the dataset's,
// and the catalog.
func (ts *tileServer) scope(r *http.Request) (*layers.Catalog, *layers.Collection, error) {
	cat, err := ts.catalog(r)
	if err != nil {
		return nil, nil, err
	}
	id := chi.URLParam(r, "collectionId")
	if id == "" {
		return cat, nil, nil
	}
	col, ok := cat.Collection(id)
	if !ok {
		return nil, nil, layers.Errorf(layers.ENOTFOUND, "there is no collection %q; /collections lists them", id)
	}
	return cat, col, nil
}

func checkTMS(r *http.Request) error {
	if id := chi.URLParam(r, "tileMatrixSetId"); id != tmsID {
		return layers.Errorf(layers.ENOTFOUND, "there is no tile matrix set %q; the tiles are on %s", id, tmsID)
	}
	return nil
}

func (ts *tileServer) matrixSets(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	if notModified(w, r, ts.etag(r)) {
		return nil
	}
	base := ts.base(r)
	return writeJSON(w, http.StatusOK, map[string]any{
		"tileMatrixSets": []map[string]any{{
			"id": tmsID, "title": "Google Maps Compatible for the World", "uri": tmsURI, "crs": crs3857,
			"links": []link{{Href: base + "/tileMatrixSets/" + tmsID, Rel: relTilingScheme, Type: mediaJSON, Title: tmsID}},
		}},
		"links": []link{{Href: base + "/tileMatrixSets", Rel: "self", Type: mediaJSON, Title: "this document"}},
	})
}

// The WebMercatorQuad of OGC 17-083r4 (2D Tile Matrix Set 2.0), annex D.
const (
	mercatorHalf      = 20037508.3427892
	scaleDenominator0 = 559082264.0287178
	cellSize0         = 156543.03392804097
)

func (ts *tileServer) matrixSet(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	if err := checkTMS(r); err != nil {
		return err
	}
	if notModified(w, r, ts.etag(r)) {
		return nil
	}
	matrices := make([]map[string]any, 0, tiles.MaxZoom+1)
	for z := 0; z <= tiles.MaxZoom; z++ {
		n := 1 << z
		matrices = append(matrices, map[string]any{
			"id": strconv.Itoa(z), "scaleDenominator": scaleDenominator0 / float64(n), "cellSize": cellSize0 / float64(n),
			"cornerOfOrigin": "topLeft", "pointOfOrigin": []float64{-mercatorHalf, mercatorHalf},
			"tileWidth": 256, "tileHeight": 256, "matrixWidth": n, "matrixHeight": n,
		})
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"id": tmsID, "title": "Google Maps Compatible for the World", "uri": tmsURI, "crs": crs3857,
		"orderedAxes": []string{"X", "Y"}, "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
		"tileMatrices": matrices,
	})
}

// tilesetLayer describes one layer of a tileset: an OGC API – Tiles
// "layers" member, with planmap's word on thinning.
type tilesetLayer struct {
	ID                string         `json:"id"`
	Title             string         `json:"title"`
	DataType          string         `json:"dataType"`
	GeometryDimension int            `json:"geometryDimension"`
	FeatureType       string         `json:"featureType"`
	MinTileMatrix     string         `json:"minTileMatrix"`
	MaxTileMatrix     string         `json:"maxTileMatrix"`
	PropertiesSchema  map[string]any `json:"propertiesSchema"`
	// Thinned: below MinTileMatrix the layer is left out of the tiles, a
	// tile of it there holding more than tiles.MaxFeatures features.
	Thinned bool `json:"planmap:thinnedBelowMinTileMatrix"`
}

func tileLayers(cat *layers.Catalog, only *layers.Collection) []tilesetLayer {
	var out []tilesetLayer
	for _, col := range cat.Collections {
		if only != nil && col != only {
			continue
		}
		dim := 2
		switch col.GeometryType {
		case "Point", "MultiPoint":
			dim = 0
		case "LineString", "MultiLineString":
			dim = 1
		}
		props := map[string]any{}
		for _, fd := range col.Schema {
			for _, name := range tiles.Fields {
				if fd.Name == name {
					props[name] = map[string]any{"type": "string", "description": fd.Description.En}
				}
			}
		}
		mz := tiles.MinZoom(col)
		out = append(out, tilesetLayer{
			ID: col.ID, Title: col.Title.Zh + " " + col.Title.En, DataType: "vector", GeometryDimension: dim,
			FeatureType: col.ID, MinTileMatrix: strconv.Itoa(mz), MaxTileMatrix: strconv.Itoa(tiles.MaxZoom),
			PropertiesSchema: map[string]any{"type": "object", "properties": props}, Thinned: mz > 0,
		})
	}
	return out
}

func (ts *tileServer) tilesets(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query(), "f"); err != nil {
		return err
	}
	cat, col, err := ts.scope(r)
	if err != nil {
		return err
	}
	if notModified(w, r, ts.etag(r, catalogVersion(cat))) {
		return nil
	}
	base := ts.base(r)
	href := base
	if col != nil {
		href += "/collections/" + url.PathEscape(col.ID)
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"links": []link{{Href: href + "/tiles", Rel: "self", Type: mediaJSON, Title: "this document"}},
		"tilesets": []map[string]any{{
			"title": "Vector tiles on " + tmsID, "dataType": "vector", "crs": crs3857, "tileMatrixSetURI": tmsURI,
			"links": []link{
				{Href: href + "/tiles/" + tmsID, Rel: "self", Type: mediaJSON, Title: "the tileset"},
				{Href: base + "/tileMatrixSets/" + tmsID, Rel: relTilingScheme, Type: mediaJSON, Title: tmsID},
			},
		}},
	})
}

// tilesetOf begins an answer about the tiles of the collection the path
// names (or of every layer): the query checked against params, the tile
// matrix set, the catalog and the collection; fresh when the client's
// copy is current and a 304 has been written.
func (ts *tileServer) tilesetOf(w http.ResponseWriter, r *http.Request, params ...string) (cat *layers.Catalog, col *layers.Collection, fresh bool, err error) {
	if err := checkParams(r.URL.Query(), params...); err != nil {
		return nil, nil, false, err
	}
	if err := checkTMS(r); err != nil {
		return nil, nil, false, err
	}
	if cat, col, err = ts.scope(r); err != nil {
		return nil, nil, false, err
	}
	return cat, col, notModified(w, r, ts.etag(r, catalogVersion(cat))), nil
}

func (ts *tileServer) tileset(w http.ResponseWriter, r *http.Request) error {
	cat, col, fresh, err := ts.tilesetOf(w, r, "f")
	if err != nil || fresh {
		return err
	}
	base := ts.base(r)
	href := base
	links := []link{}
	if col != nil {
		href += "/collections/" + url.PathEscape(col.ID)
		links = append(links, link{Href: href, Rel: relGeodata, Type: mediaJSON, Title: "the layer"})
	} else {
		links = append(links, link{Href: base + "/", Rel: relDataset, Type: mediaJSON, Title: "the service"})
	}
	links = append(links,
		link{Href: href + "/tiles/" + tmsID, Rel: "self", Type: mediaJSON, Title: "this document"},
		link{Href: base + "/tileMatrixSets/" + tmsID, Rel: relTilingScheme, Type: mediaJSON, Title: tmsID},
		link{Href: href + "/tiles/" + tmsID + "/{tileMatrix}/{tileRow}/{tileCol}", Rel: "item", Type: mediaMVT, Title: "a tile; templated"},
		link{Href: href + "/tiles/" + tmsID + "/tilejson.json", Rel: "describedby", Type: mediaTileJSON, Title: "the same as TileJSON 3.0"},
	)
	for i := range links {
		if strings.Contains(links[i].Href, "{") {
			links[i].Templated = true
		}
	}
	ls := tileLayers(cat, col)
	b := bounds(cat, col)
	return writeJSON(w, http.StatusOK, map[string]any{
		"title": "Vector tiles on " + tmsID, "dataType": "vector", "crs": crs3857, "tileMatrixSetURI": tmsURI,
		"links": links, "layers": ls,
		"boundingBox": map[string]any{"lowerLeft": []float64{b.Min[0], b.Min[1]}, "upperRight": []float64{b.Max[0], b.Max[1]},
			"crs": crs84},
		"tileMatrixSetLimits": matrixLimits(b),
	})
}

// bounds is the extent of the collection, or of every layer.
func bounds(cat *layers.Catalog, col *layers.Collection) (b box) {
	first := true
	for _, c := range cat.Collections {
		if (col != nil && c != col) || c.Count == 0 {
			continue
		}
		if first {
			b, first = box{c.Extent.Min, c.Extent.Max}, false
			continue
		}
		b.Min = [2]float64{math.Min(b.Min[0], c.Extent.Min[0]), math.Min(b.Min[1], c.Extent.Min[1])}
		b.Max = [2]float64{math.Max(b.Max[0], c.Extent.Max[0]), math.Max(b.Max[1], c.Extent.Max[1])}
	}
	if first {
		return box{[2]float64{-180, -geo.MaxMercatorLat}, [2]float64{180, geo.MaxMercatorLat}}
	}
	return b
}

// box is a bounding box in CRS84.
type box struct{ Min, Max [2]float64 }

// matrixLimits are the rows and columns of each zoom that meet b.
func matrixLimits(b box) []map[string]any {
	out := make([]map[string]any, 0, tiles.MaxZoom+1)
	for z := 0; z <= tiles.MaxZoom; z++ {
		x0, y1 := tileOf(b.Min, z)
		x1, y0 := tileOf(b.Max, z)
		out = append(out, map[string]any{"tileMatrix": strconv.Itoa(z), "minTileRow": y0, "maxTileRow": y1, "minTileCol": x0, "maxTileCol": x1})
	}
	return out
}

func tileOf(p [2]float64, z int) (x, y int) {
	n := float64(int(1) << z)
	wx, wy := geo.WorldXY(p)
	fx, fy := wx*n, wy*n
	clamp := func(v float64) int { return int(math.Min(math.Max(math.Floor(v), 0), n-1)) }
	return clamp(fx), clamp(fy)
}

func (ts *tileServer) tileJSON(w http.ResponseWriter, r *http.Request) error {
	cat, col, fresh, err := ts.tilesetOf(w, r)
	if err != nil || fresh {
		return err
	}
	base := ts.base(r)
	b := bounds(cat, col)
	type vectorLayer struct {
		ID          string            `json:"id"`
		Description string            `json:"description"`
		MinZoom     int               `json:"minzoom"`
		MaxZoom     int               `json:"maxzoom"`
		Fields      map[string]string `json:"fields"`
	}
	var vls []vectorLayer
	for _, l := range tileLayers(cat, col) {
		fields := map[string]string{}
		for name := range l.PropertiesSchema["properties"].(map[string]any) {
			fields[name] = "String"
		}
		mz, _ := strconv.Atoi(l.MinTileMatrix)
		vls = append(vls, vectorLayer{ID: l.ID, Description: l.Title, MinZoom: mz, MaxZoom: tiles.MaxZoom, Fields: fields})
	}
	name := serviceTitle
	if col != nil {
		name = col.Title.Zh + " " + col.Title.En
	}
	return writeJSONType(w, http.StatusOK, mediaTileJSON, map[string]any{
		"tilejson": "3.0.0", "name": name, "scheme": "xyz",
		"tiles":   []string{xyzURL(base, col)},
		"minzoom": 0, "maxzoom": tiles.MaxZoom,
		"bounds":        []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]},
		"center":        []float64{(b.Min[0] + b.Max[0]) / 2, (b.Min[1] + b.Max[1]) / 2, 12},
		"vector_layers": vls,
	})
}

// tileNumber parses a z, y or x of a tile path: 400 if it is not a whole
// number, -1 (out of range: 404) if it is too large to be one.
func tileNumber(name, v string) (int, error) {
	for _, c := range []byte(v) {
		if c < '0' || c > '9' {
			return 0, layers.Errorf(layers.EINVALID, "%s %q is not a whole number", name, v)
		}
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		if v == "" {
			return 0, layers.Errorf(layers.EINVALID, "%s is empty", name)
		}
		return -1, nil
	}
	return n, nil
}

func (ts *tileServer) tile(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	if err := checkTMS(r); err != nil {
		return err
	}
	var zyx [3]int
	for i, name := range [...]string{"tileMatrix", "tileRow", "tileCol"} {
		n, err := tileNumber(name, chi.URLParam(r, name))
		if err != nil {
			return err
		}
		zyx[i] = n
	}
	z, y, x := zyx[0], zyx[1], zyx[2]
	if !tiles.Valid(z, x, y) {
		return layers.Errorf(layers.ENOTFOUND, "there is no tile %d/%d/%d: %s has zoom levels 0 to %d, and rows and columns 0 to 2^zoom−1",
			z, y, x, tmsID, tiles.MaxZoom)
	}
	_, col, err := ts.scope(r)
	if err != nil {
		return err
	}
	var ids []string
	if col != nil {
		ids = []string{col.ID}
	}
	t, err := ts.cache.Get(r.Context(), z, x, y, ids)
	if err != nil {
		return err
	}
	h := w.Header()
	if len(t.Thinned) > 0 {
		h.Set("Planmap-Thinned", strings.Join(t.Thinned, ","))
	}
	// Tiles change with edits: clients keep them but ask again, cheaply
	// (304). The ETag is weak: the same tile goes gzipped or not.
	h.Set("Cache-Control", "no-cache")
	if notModified(w, r, "W/"+t.ETag) {
		return nil
	}
	if len(t.Data) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	h.Set("Content-Type", mediaMVT)
	h.Add("Vary", "Accept-Encoding")
	body := t.Data
	if acceptsGzip(r) {
		body = t.Gzipped()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, err = w.Write(body)
	return err
}

// addTilePaths adds the tile resources to the OpenAPI document's paths,
// with get as openAPI makes an operation.
func addTilePaths(paths obj, cat *layers.Catalog, get func(id, summary, tag string, params []obj, ok obj, codes ...string) obj) {
	pathParam := func(name, desc string, schema obj) obj {
		return obj{"name": name, "in": "path", "required": true, "description": desc, "schema": schema}
	}
	tms := pathParam("tileMatrixSetId", "The tile matrix set: WebMercatorQuad.", obj{"type": "string", "enum": []string{tmsID}})
	zyx := []obj{tms,
		pathParam("tileMatrix", "The zoom level, 0 to "+strconv.Itoa(tiles.MaxZoom)+".", obj{"type": "string", "pattern": "^[0-9]+$"}),
		pathParam("tileRow", "The row (y), from the top, 0 to 2^zoom−1.", obj{"type": "integer", "minimum": 0}),
		pathParam("tileCol", "The column (x), from the west, 0 to 2^zoom−1.", obj{"type": "integer", "minimum": 0}),
	}
	f := ref("parameters/f")
	doc := func(desc string) obj {
		return obj{"description": desc, "headers": obj{"ETag": ref("headers/ETag")}, "content": obj{mediaJSON: obj{"schema": obj{"type": "object"}}}}
	}
	tile := obj{"description": "The tile, MVT: an MVT layer per layer, named by its id; the feature id is the feature's. Header Planmap-Thinned lists the layers shown only in part.",
		"headers": obj{"ETag": ref("headers/ETag")},
		"content": obj{mediaMVT: obj{"schema": obj{"type": "string", "format": "binary"}}}}
	withEmpty := func(op obj) obj {
		rs := op["get"].(obj)["responses"].(obj)
		rs["204"] = obj{"description": "The tile holds nothing."}
		return op
	}
	const tag = "Tiles"
	paths["/tileMatrixSets"] = get("getTileMatrixSetsList", "The tile matrix sets of the tiles", tag, []obj{f}, doc("The tile matrix sets"), "304")
	paths["/tileMatrixSets/{tileMatrixSetId}"] = get("getTileMatrixSet", "A tile matrix set's definition", tag, []obj{tms, f}, doc("The tile matrix set"), "304", "404")
	paths["/tiles"] = get("getDatasetTilesetsList", "The tilesets of all layers together", tag, []obj{f}, doc("The tilesets"), "304")
	paths["/tiles/{tileMatrixSetId}"] = get("getDatasetTileset", "The tileset of all layers together: layers, zoom range, URL template", tag, []obj{tms, f}, doc("The tileset"), "304", "404")
	paths["/tiles/{tileMatrixSetId}/tilejson.json"] = get("getDatasetTileJSON", "The same as TileJSON 3.0", tag, []obj{tms}, doc("TileJSON"), "304", "404")
	paths["/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"] = withEmpty(get("getDatasetTile", "A tile of every layer", tag, zyx, tile, "304", "404"))
	for _, col := range cat.Collections {
		p := "/collections/" + col.ID + "/tiles"
		name := col.Title.Zh + " " + col.Title.En
		paths[p] = get("getTilesetsList_"+col.ID, "The tilesets of "+name, col.ID, []obj{f}, doc("The tilesets"), "304", "404")
		paths[p+"/{tileMatrixSetId}"] = get("getTileset_"+col.ID, "The tileset of "+name, col.ID, []obj{tms, f}, doc("The tileset"), "304", "404")
		paths[p+"/{tileMatrixSetId}/tilejson.json"] = get("getTileJSON_"+col.ID, "The tileset of "+name+" as TileJSON 3.0", col.ID, []obj{tms}, doc("TileJSON"), "304", "404")
		paths[p+"/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"] = withEmpty(get("getTile_"+col.ID, "A tile of "+name, col.ID, zyx, tile, "304", "404"))
	}
}
