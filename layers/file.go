package layers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/geo/jsonscan"
)

// Feature is one feature of a layer. Properties hold string, int64,
// float64 or bool values, dates and date-times as ISO 8601 strings; an
// absent property is simply not in the map.
type Feature struct {
	ID         int64
	Properties map[string]any
	Geometry   orb.Geometry
}

// File is a parsed layer file. Features are filled in by Check, once the
// layer the file belongs to is known.
type File struct {
	Name     string // the path as given, used in every message
	LayerID  string // from the id member, else name, else the file name
	Layer    *Layer // the file's own declaration, nil if it has none
	Features []Feature
	Warnings []string
	// NewIDs is set when no feature of the file had an id, as in a file
	// saved by QGIS or ogr2ogr: the features get new ids on import, after
	// the layer's highest.
	NewIDs bool

	raw []rawFeature
	// src, when set, holds the features in the file on disk instead of
	// raw: OpenFile leaves them there, to be parsed and checked one at a
	// time as they are imported.
	src *source
	// parseErr holds the problems of parsing a streamed file's features,
	// found as they are read.
	parseErr error
	// inferred is the declaration read from the input's own structure (a
	// shapefile's DBF fields, a GeoPackage table's columns), for when the
	// file declares no layer and the layer does not exist yet; undeclared
	// says why there is none.
	inferred   *Layer
	undeclared string
}

// AddRaw adds a feature read from an input format, its properties as
// read (json.Number for a number from JSON), to be checked with the rest.
func (f *File) AddRaw(id int64, g orb.Geometry, props map[string]any) {
	f.raw = append(f.raw, rawFeature{id: id, geometry: g, props: props})
}

// Infer sets the declaration read from the input's own structure, for a
// file that declares none; l nil with why says why there is none.
func (f *File) Infer(l *Layer, why string) {
	if l != nil {
		f.inferred = l
	}
	if why != "" {
		f.undeclared = why
	}
}

// Inferred returns the declaration Infer set, and why there is none.
func (f *File) Inferred() (*Layer, string) { return f.inferred, f.undeclared }

type rawFeature struct {
	id       int64
	props    map[string]any // json.Number for numbers
	geometry orb.Geometry
	valid    bool // geometry passed geo.Validate
}

// countLimit is how many problems ParseFile and Check count one by one.
// Past it a file is certainly refused, so the rest of its features are only
// counted, not decoded: a file of millions of broken features then costs a
// scan, not the decoding of each, and what is known to be refused is not
// kept. Up to it the count of problems stays exact.
const countLimit = 20 * MaxProblems

// ParseFile reads a layer file: JSON syntax, the FeatureCollection
// structure, the declaration if there is one, feature ids and geometries.
// Every problem found is reported, as "NAME: feature N (id X): …", in the
// returned error, and no File; past countLimit problems the remaining
// features are only counted. Properties are checked later, by Check.
//
// The features are decoded one at a time and dropped once the file has a
// problem, so a refused file costs memory for what it lists, not for what
// it holds.
func ParseFile(name string, data []byte) (*File, error) {
	var p Problems
	f := &File{Name: name}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))

	var top struct {
		Type         string          `json:"type"`
		Name         *string         `json:"name"`
		ID           json.RawMessage `json:"id"`
		Title        *Text           `json:"title"`
		Description  *Text           `json:"description"`
		GeometryType *string         `json:"geometryType"`
		Order        *int            `json:"order"`
		Schema       json.RawMessage `json:"schema"`
		Style        json.RawMessage `json:"style"`
		Rules        json.RawMessage `json:"rules"`
		CRS          json.RawMessage `json:"crs"`
		Features     featureArray    `json:"features"`
	}
	// Unmarshal checks the syntax of the whole file before it decodes
	// anything, so a syntax error is reported at its line and column
	// whatever member it is in; the features array itself is only marked.
	if err := json.Unmarshal(data, &top); err != nil {
		if errors.Is(err, errNotArray) {
			// Decoding into a slice type gives the error, with its
			// place, that a features member of the wrong kind deserves.
			err = json.Unmarshal(data, &struct {
				Features []struct{} `json:"features"`
			}{})
		}
		p.Add("%s: %s", name, jsonError(data, err))
		return nil, p.Err()
	}
	switch top.Type {
	case "FeatureCollection":
	case "Feature":
		p.Add("%s: is a single Feature; a layer file is a FeatureCollection", name)
		return nil, p.Err()
	case "":
		p.Add("%s: has no \"type\" member; a layer file is a GeoJSON FeatureCollection", name)
		return nil, p.Err()
	default:
		p.Add("%s: is a GeoJSON %s; a layer file is a FeatureCollection", name, top.Type)
		return nil, p.Err()
	}
	if top.Features == nil {
		p.Add("%s: has no \"features\" array", name)
		return nil, p.Err()
	}

	switch {
	case len(top.ID) > 0:
		if err := json.Unmarshal(top.ID, &f.LayerID); err != nil {
			p.Add("%s: the id member is %s; it must be the layer id, a string", name, top.ID)
			return nil, p.Err()
		}
	case top.Name != nil:
		f.LayerID = *top.Name
	default:
		f.LayerID = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	if top.Title != nil || top.GeometryType != nil || top.Schema != nil {
		l := &Layer{ID: f.LayerID}
		if top.Title != nil {
			l.Title = *top.Title
		}
		if top.Description != nil {
			l.Description = *top.Description
		}
		if top.GeometryType != nil {
			l.GeometryType = *top.GeometryType
		}
		if top.Order != nil {
			l.Order = *top.Order
		}
		if err := strictUnmarshal(top.Schema, &l.Schema); err != nil {
			p.Add("%s: schema: %v", name, err)
		}
		if err := strictUnmarshal(top.Style, &l.Style); err != nil {
			p.Add("%s: style: %v", name, err)
		}
		if err := strictUnmarshal(top.Rules, &l.Rules); err != nil {
			p.Add("%s: rules: %v", name, err)
		}
		l.Validate(&p, name+": ")
		f.Layer = l
	}

	proj, err := parseCRS(top.CRS)
	if err != nil {
		p.Add("%s: %v", name, err)
		return nil, p.Err()
	}

	// Unmarshal has checked the array's syntax: an error from the decoder
	// here would be ours, not the file's.
	dec := json.NewDecoder(bytes.NewReader(top.Features))
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%s: features: %w", name, err)
	}
	fp := newFeatureParser(name, proj, &p)
	var raw json.RawMessage
	for dec.More() {
		if p.Len() >= countLimit {
			left := countRest(top.Features[dec.InputOffset():])
			if fp.n == 0 {
				left++ // the first value has no comma before it
			}
			p.stop(fmt.Sprintf("%s was checked up to feature %d of %d", name, fp.n, fp.n+left))
			break
		}
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%s: features: %w", name, err)
		}
		rf, ok := fp.next(raw)
		if !ok {
			continue
		}
		// A file with a problem is refused: what it holds is not kept.
		if p.Len() == 0 {
			f.raw = append(f.raw, rf)
		} else {
			f.raw = nil
		}
	}
	fp.finish(f)
	if err := p.Err(); err != nil {
		return nil, err
	}
	return f, nil
}

// featureParser parses the features of a layer file one at a time, as
// ParseFile and a streamed file's import do: ids, geometries, the CRS,
// into the file's parse problems.
type featureParser struct {
	name string
	proj func(orb.Geometry) (orb.Geometry, error)
	p    *Problems
	// seen maps each id to the feature that has it, for the message
	// about a duplicate.
	seen              map[int64]int
	n, zCount, withID int
	// The features without an id, to be blamed if another has one; the
	// first MaxProblems by place, the rest by count.
	noID     []string
	noIDMore int
}

func newFeatureParser(name string, proj func(orb.Geometry) (orb.Geometry, error), p *Problems) *featureParser {
	return &featureParser{name: name, proj: proj, p: p, seen: map[int64]int{}}
}

// next parses the next feature of the file; ok is false when it has a
// problem, which is in the parser's problems.
func (fp *featureParser) next(raw []byte) (rf rawFeature, ok bool) {
	rf, hasZ, err := parseFeature(raw, fp.proj)
	return fp.add(rf, hasZ, err)
}

// add takes the next feature of the file as parseFeature parsed it.
func (fp *featureParser) add(rf rawFeature, hasZ bool, err error) (rawFeature, bool) {
	fp.n++
	n, name, p := fp.n, fp.name, fp.p
	where := func() string {
		if rf.id != 0 {
			return fmt.Sprintf("%s: feature %d (id %d)", name, n, rf.id)
		}
		return fmt.Sprintf("%s: feature %d", name, n)
	}
	if rf.id != 0 {
		fp.withID++
	}
	if err != nil {
		p.Add("%s: %v", where(), err)
		return rf, false
	}
	if rf.id == 0 {
		if len(fp.noID) < MaxProblems {
			fp.noID = append(fp.noID, where())
		} else {
			fp.noIDMore++
		}
	} else if first, dup := fp.seen[rf.id]; dup {
		p.Add("%s: id %d is already used by feature %d", where(), rf.id, first)
		return rf, false
	} else {
		fp.seen[rf.id] = n
	}
	if hasZ {
		fp.zCount++
	}
	return rf, true
}

// failing reports whether the file is already certain to be refused.
func (fp *featureParser) failing() bool {
	return fp.p.Len() > 0 || (fp.withID > 0 && len(fp.noID) > 0)
}

// finish adds what is known only once every feature has been read: the
// features without an id when others have one, and the warnings.
func (fp *featureParser) finish(f *File) {
	switch {
	case fp.withID == 0 && fp.n > 0:
		f.NewIDs = true
		f.Warnings = append(f.Warnings, fmt.Sprintf("%s: no feature has an id; all %d get new ids after the layer's highest (importing this file again adds them again)", fp.name, fp.n))
	default:
		for _, where := range fp.noID {
			fp.p.Add("%s: has no id, unlike other features of the file; give every feature a stable positive integer id", where)
		}
		fp.p.addCount(fp.noIDMore)
	}
	if fp.zCount > 0 {
		f.Warnings = append(f.Warnings, fmt.Sprintf("%s: %d features have Z coordinates; heights were dropped", fp.name, fp.zCount))
	}
}

// errNotArray marks a features member that is neither an array nor null.
var errNotArray = errors.New("features is not an array")

// featureArray holds the features member of a layer file as it is in the
// file, to be decoded one feature at a time. It is nil when the member is
// missing or null.
type featureArray []byte

// UnmarshalJSON keeps the array's bytes. Unmarshal passes a slice of its
// input, so keeping it copies nothing.
func (a *featureArray) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*a = nil
	case len(b) > 0 && b[0] == '[':
		*a = b
	default:
		return errNotArray
	}
	return nil
}

// countRest counts the values left in a JSON array whose syntax has been
// checked, given what follows a value of it: one for each comma outside
// strings and nested values.
func countRest(rest []byte) int {
	var a jsonscan.Array
	n := 0
	for {
		i, c := a.Next(rest)
		if c != ',' {
			return n
		}
		n++
		rest = rest[i+1:]
	}
}

func parseFeature(raw json.RawMessage, toLonLat func(orb.Geometry) (orb.Geometry, error)) (rawFeature, bool, error) {
	var rf rawFeature
	// Most features are decoded in one go, properties included; any that
	// this does not decode cleanly, or whose properties member is
	// repeated (where a map would merge what the slow path replaces), is
	// decoded member by member, which says what is wrong.
	var fast fastFeature
	decoded := decodeFastFeature(raw, &fast)
	if !decoded {
		fast = fastFeature{}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		decoded = dec.Decode(&fast) == nil
	}
	if decoded && fast.Type == "Feature" && bytes.Count(raw, []byte(`"properties"`)) <= 1 {
		if id, err := strconv.ParseInt(string(fast.ID), 10, 64); err == nil && id > 0 {
			rf.id = id
		}
		if rf.id != 0 || len(fast.ID) == 0 || string(fast.ID) == "null" {
			rf.props = fast.Properties
			if fast.Geometry == nil {
				return rf, false, errors.New("has no geometry")
			}
			g, hasZ, err := geo.DecodeGeoJSONMembers(fast.Geometry.Type, fast.Geometry.Coordinates)
			return checkGeometry(rf, g, hasZ, err, toLonLat)
		}
	}
	rf = rawFeature{}
	var obj struct {
		Type       string          `json:"type"`
		ID         json.RawMessage `json:"id"`
		Properties json.RawMessage `json:"properties"`
		Geometry   json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return rf, false, errors.New("is not a GeoJSON Feature object")
	}
	if id, err := strconv.ParseInt(string(obj.ID), 10, 64); err == nil && id > 0 {
		rf.id = id
	}
	if obj.Type != "Feature" {
		return rf, false, fmt.Errorf("type is %q, want \"Feature\"", obj.Type)
	}
	if rf.id == 0 && len(obj.ID) > 0 && string(obj.ID) != "null" {
		return rf, false, fmt.Errorf("id %s is not a positive integer", obj.ID)
	}
	if len(obj.Properties) > 0 && string(obj.Properties) != "null" {
		dec := json.NewDecoder(bytes.NewReader(obj.Properties))
		dec.UseNumber()
		if err := dec.Decode(&rf.props); err != nil {
			return rf, false, errors.New("properties is not a JSON object")
		}
	}
	return parseGeometry(rf, obj.Geometry, toLonLat)
}

// parseGeometry decodes and validates the geometry of a feature.
func parseGeometry(rf rawFeature, raw json.RawMessage, toLonLat func(orb.Geometry) (orb.Geometry, error)) (rawFeature, bool, error) {
	g, hasZ, err := geo.DecodeGeoJSON(raw)
	return checkGeometry(rf, g, hasZ, err, toLonLat)
}

// checkGeometry takes a feature's decoded geometry to lon/lat and
// validates it.
func checkGeometry(rf rawFeature, g orb.Geometry, hasZ bool, err error, toLonLat func(orb.Geometry) (orb.Geometry, error)) (rawFeature, bool, error) {
	if err != nil {
		return rf, false, fmt.Errorf("geometry: %w", err)
	}
	if g == nil {
		return rf, false, errors.New("has no geometry")
	}
	if g, err = toLonLat(g); err != nil {
		return rf, false, fmt.Errorf("geometry: %w", err)
	}
	if err := geo.Validate(g); err != nil {
		return rf, false, fmt.Errorf("%s: %w", g.GeoJSONType(), err)
	}
	rf.geometry, rf.valid = g, true
	return rf, hasZ, nil
}

// parseCRS returns the transform to lon/lat for the legacy GeoJSON 2008
// crs member; without one, positions are CRS84 (RFC 7946).
func parseCRS(raw json.RawMessage) (func(orb.Geometry) (orb.Geometry, error), error) {
	if len(raw) == 0 || string(raw) == "null" {
		return SourceCRS(4326)
	}
	var c struct {
		Type       string `json:"type"`
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.Type != "name" {
		return nil, fmt.Errorf("crs member %s is not understood: only named CRSs are (%s)", raw, SupportedCRSs)
	}
	if code, ok := epsgCode(c.Properties.Name); ok {
		if proj, err := SourceCRS(code); err == nil {
			return proj, nil
		}
	}
	return nil, fmt.Errorf("crs %q is not supported: %s", c.Properties.Name, SupportedCRSs)
}

// strictUnmarshal decodes raw into v, refusing unknown members so that a
// typo in a declaration is reported instead of ignored.
func strictUnmarshal(raw json.RawMessage, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// jsonError describes a decoding error with the line and column it is at.
func jsonError(data []byte, err error) string {
	var off int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off = syn.Offset
	case errors.As(err, &typ):
		off = typ.Offset
		if typ.Field != "" {
			return fmt.Sprintf("%s: member %q is a JSON %s, want %s", lineCol(data, off), typ.Field, typ.Value, jsonKind(typ.Type.String()))
		}
		return fmt.Sprintf("%s: top level is a JSON %s; a layer file is a GeoJSON FeatureCollection object", lineCol(data, off), typ.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if off < 0 {
		return "not valid JSON: " + msg
	}
	return fmt.Sprintf("%s: not valid JSON: %s", lineCol(data, off), msg)
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.Contains(goType, "string"):
		return "a string"
	case strings.Contains(goType, "int"):
		return "an integer"
	}
	return "an object"
}

func lineCol(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return fmt.Sprintf("line %d, column %d", line, col)
}

// Check validates the file's features against layer l, the layer they will
// be written to, and fills f.Features with typed, normalised features.
// Problems are added to p; once p holds countLimit of them, the rest of the
// features are not checked. The features of a file that OpenFile left on
// disk are read, parsed and checked now; Check then reports the problems of
// parsing too.
func (f *File) Check(l *Layer, p *Problems) {
	f.Features = f.Features[:0]
	f.each(l, p, func(ft Feature) error {
		f.Features = append(f.Features, ft)
		return nil
	})
}

// each checks the file's features against layer l, as Check does, and
// calls fn with each feature that passes, in file order, while p has no
// problem (and, for a streamed file, neither has its parsing), since the
// file is then refused; a streamed file's parse problems are kept in
// f.parseErr. An error from fn stops the reading and is returned. fn runs
// beside the reading of a streamed file, on another goroutine: it must
// not touch p.
func (f *File) each(l *Layer, p *Problems, fn func(Feature) error) error {
	if f.src != nil {
		return f.stream(l, p, fn)
	}
	if l == nil {
		return nil // parsed already
	}
	checker := newChecker(f, l)
	for i, rf := range f.raw {
		if p.Len() >= countLimit {
			p.stop(fmt.Sprintf("%s was checked up to feature %d of %d", f.Name, i, len(f.raw)))
			break
		}
		if ft, ok := checker.check(i, rf, p); ok && p.Len() == 0 {
			if err := fn(ft); err != nil {
				return err
			}
		}
	}
	return nil
}

// checker checks the parsed features of a file against the layer they
// will be written to.
type checker struct {
	f     *File
	l     *Layer
	multi bool
}

func newChecker(f *File, l *Layer) checker {
	return checker{f: f, l: l, multi: geo.IsMulti(l.GeometryType)}
}

// check checks feature i (from 0) of the file, adding its problems to p.
func (c checker) check(i int, rf rawFeature, p *Problems) (Feature, bool) {
	return checkFeature(c.l, c.multi, rf, func(format string, args ...any) {
		// Said only of a feature with a problem: a sixth of the checks'
		// time, were it said of every feature.
		where := fmt.Sprintf("%s: feature %d", c.f.Name, i+1)
		if rf.id != 0 {
			where += fmt.Sprintf(" (id %d)", rf.id)
		}
		p.Add("%s: %s", where, fmt.Sprintf(format, args...))
	})
}

// checkFeature checks one parsed feature against layer l (multi: l holds
// multi-geometries), calling bad with each problem, and returns it typed
// and normalised. It is the one check of a feature, whether it comes from
// a file being imported or from an edit (CheckFeature).
func checkFeature(l *Layer, multi bool, rf rawFeature, bad func(string, ...any)) (Feature, bool) {
	ok := true
	count := func(format string, args ...any) {
		ok = false
		bad(format, args...)
	}
	gt := rf.geometry.GeoJSONType()
	if gt != l.GeometryType && !(multi && "Multi"+gt == l.GeometryType) {
		count("geometry is a %s, but layer %s holds %s", gt, l.ID, l.GeometryType)
	}
	props := checkProperties(l, rf.props, count)
	if !ok {
		return Feature{}, false
	}
	g := geo.Normalize(rf.geometry, multi)
	// ParseFile has validated the geometry as it was: when normalising
	// changed nothing, validating it again would say the same.
	if rf.valid && orb.Equal(g, rf.geometry) {
		return Feature{ID: rf.id, Properties: props, Geometry: g}, true
	}
	if err := geo.Validate(g); err != nil {
		bad("%s after rounding to %d decimals: %v", g.GeoJSONType(), geo.Precision, err)
		return Feature{}, false
	}
	return Feature{ID: rf.id, Properties: props, Geometry: g}, true
}

// CheckFeature checks a feature to be written to layer l by an edit, as
// an import checks each feature of a file (the same code): its geometry
// valid and of the layer's type, its properties those of the schema, of
// their types, with the required ones present and only allowed values.
// It returns the feature typed and normalised as it is to be stored
// (coordinates rounded, rings wound, a single geometry made multi where
// the layer holds multi-geometries), or an EINVALID error naming each
// property or ring that is wrong. Property values may be as decoded from
// JSON (json.Number, float64) or already typed (int64, int, float64,
// string, bool); nil means absent.
func (l *Layer) CheckFeature(f Feature) (Feature, error) {
	where := "the feature"
	if f.ID != 0 {
		where = fmt.Sprintf("feature %d", f.ID)
	}
	if f.Geometry == nil {
		return Feature{}, Errorf(EINVALID, "%s has no geometry", where)
	}
	rf := rawFeature{id: f.ID, props: make(map[string]any, len(f.Properties))}
	for k, v := range f.Properties {
		rf.props[k] = asDecoded(v)
	}
	// As a file's geometry is checked when it is parsed (checkGeometry).
	if err := geo.Validate(f.Geometry); err != nil {
		return Feature{}, Errorf(EINVALID, "%s: %s: %v", where, f.Geometry.GeoJSONType(), err)
	}
	rf.geometry, rf.valid = f.Geometry, true
	var p Problems
	out, ok := checkFeature(l, geo.IsMulti(l.GeometryType), rf, func(format string, args ...any) {
		p.Add("%s: %s", where, fmt.Sprintf(format, args...))
	})
	if !ok {
		return Feature{}, p.Err()
	}
	return out, nil
}

// asDecoded turns a typed property value into what decoding JSON with
// UseNumber gives, which convert takes.
func asDecoded(v any) any {
	switch v := v.(type) {
	case int64:
		return json.Number(strconv.FormatInt(v, 10))
	case int:
		return json.Number(strconv.Itoa(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return v // refused by convert, as not a number
		}
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return v
}

func checkProperties(l *Layer, in map[string]any, bad func(string, ...any)) map[string]any {
	out := make(map[string]any, len(in))
	names := make([]string, 0, len(in))
	for k := range in {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := in[k]
		fd := l.Field(k)
		if fd == nil {
			bad("property %q is not in the schema of layer %s (fields: %s)", k, l.ID, fieldNames(l))
			continue
		}
		if v == nil {
			continue
		}
		tv, err := convert(fd, v)
		if err != nil {
			bad("property %q: %v", k, err)
			continue
		}
		out[k] = tv
	}
	for _, fd := range l.Schema {
		if _, ok := out[fd.Name]; fd.Required && !ok && in[fd.Name] == nil {
			bad("required property %q is missing", fd.Name)
		}
	}
	return out
}

func fieldNames(l *Layer) string {
	names := make([]string, len(l.Schema))
	for i, fd := range l.Schema {
		names[i] = fd.Name
	}
	return strings.Join(names, ", ")
}

func describe(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", v)
	case json.Number:
		return "the number " + v.String()
	case bool:
		return fmt.Sprintf("%t", v)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%v", v)
}

// convert turns a decoded JSON value into the Go value of field fd.
func convert(fd *Field, v any) (any, error) {
	want := func() error { return fmt.Errorf("is %s, want %s", describe(v), article(fd.Type)) }
	switch fd.Type {
	case String:
		s, ok := v.(string)
		if !ok {
			return nil, want()
		}
		if len(fd.Values) > 0 && !contains(fd.Values, s) {
			return nil, fmt.Errorf("%q is not one of the allowed values (%s)", s, strings.Join(fd.Values, ", "))
		}
		return s, nil
	case Integer:
		n, ok := v.(json.Number)
		if !ok {
			return nil, want()
		}
		if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
			return i, nil
		}
		// GDAL may write an integral Real as 12.0.
		if x, err := n.Float64(); err == nil && x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
		return nil, want()
	case Number:
		n, ok := v.(json.Number)
		if !ok {
			return nil, want()
		}
		x, err := n.Float64()
		if err != nil || math.IsInf(x, 0) {
			return nil, want()
		}
		return x, nil
	case Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, want()
		}
		return b, nil
	case Date:
		s, ok := v.(string)
		if !ok {
			return nil, want()
		}
		// GDAL's GeoJSON writer spells dates 2021/09/26.
		for _, layout := range []string{"2006-01-02", "2006/01/02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.Format("2006-01-02"), nil
			}
		}
		return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	case DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, want()
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006/01/02 15:04:05Z07", "2006/01/02 15:04:05"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC().Format("2006-01-02T15:04:05.000Z"), nil
			}
		}
		return nil, fmt.Errorf("%q is not a date-time (RFC 3339, e.g. 2021-09-26T08:00:00+08:00)", s)
	}
	return nil, fmt.Errorf("field type %q is unknown", fd.Type)
}

func article(t FieldType) string {
	switch t {
	case Integer:
		return "an integer"
	case DateTime:
		return "a date-time string"
	case Date:
		return "a date string"
	}
	return "a " + string(t)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
