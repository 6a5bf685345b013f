package geo

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"image/color"
	"io"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-geom"
	geomkml "github.com/twpayne/go-geom/encoding/kml"
	"github.com/twpayne/go-kml/v3"
)

// ErrKMLState is returned by a KMLWriter used out of order: a folder
// ended that was never started, or anything after Close.
var ErrKMLState = errors.New("geo: KML writer used out of order")

// KMLContainer is what a KML Document or Folder says of itself.
// Description is plain text: it is escaped, since clients render KML
// descriptions as HTML.
type KMLContainer struct {
	Name        string
	Description string
}

// KMLStyle is a shared style that placemarks refer to by ID. Colours are
// "#rrggbb" with a separate opacity from 0 to 1, as the web map has them;
// the writer turns them into KML's aabbggrr. An empty colour leaves that
// part of the style out.
type KMLStyle struct {
	ID string
	// Line is the stroke of lines and of polygon outlines.
	Line        string
	LineOpacity float64
	LineWidth   float64
	// Fill is the inside of polygons.
	Fill        string
	FillOpacity float64
	// Icon is the colour points are drawn in, at IconScale times the
	// client's icon size.
	Icon      string
	IconScale float64
}

// KMLData is one property of a placemark: Name is its key, DisplayName
// what a person reads, Value the value as text.
type KMLData struct {
	Name, DisplayName, Value string
}

// KMLPlacemark is one feature. Name is plain text; Data goes both into
// ExtendedData and, escaped, into an HTML table in the description.
// A nil Geometry writes a placemark without one.
type KMLPlacemark struct {
	Name     string
	Snippet  string
	StyleID  string
	Data     []KMLData
	Geometry orb.Geometry
}

// KMLWriter streams one KML document: a Document with its shared styles,
// then placemarks, optionally grouped in folders, one at a time, so that
// a layer of any size is never held in memory as a whole.
type KMLWriter struct {
	bw     *bufio.Writer
	enc    *xml.Encoder
	open   []xml.StartElement
	closed bool
}

// pointIcon is the icon points are drawn with. KML tints an icon with
// IconStyle's colour, and only a white icon takes a colour faithfully;
// this one ships with Google Earth, and clients that cannot load it fall
// back to their own, still tinted.
const pointIcon = "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"

// NewKMLWriter writes the head of a KML document to w: the XML
// declaration, the kml element and a Document named by doc with the
// shared styles. Styles must come first because KML only looks for them
// before the features of a Document. Call Close to end the document.
func NewKMLWriter(w io.Writer, doc KMLContainer, styles []KMLStyle) (*KMLWriter, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	k := &KMLWriter{bw: bw, enc: xml.NewEncoder(bw)}
	k.enc.Indent("", " ")
	if _, err := bw.WriteString(xml.Header); err != nil {
		return nil, err
	}
	if err := k.start(xml.StartElement{Name: xml.Name{Space: kml.Namespace, Local: "kml"}}); err != nil {
		return nil, err
	}
	if err := k.container("Document", doc); err != nil {
		return nil, err
	}
	for _, s := range styles {
		e, err := kmlStyle(s)
		if err != nil {
			return nil, err
		}
		if err := k.enc.Encode(e); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func (k *KMLWriter) start(e xml.StartElement) error {
	if k.closed {
		return ErrKMLState
	}
	k.open = append(k.open, e)
	return k.enc.EncodeToken(e)
}

func (k *KMLWriter) end() error {
	if k.closed || len(k.open) == 0 {
		return ErrKMLState
	}
	e := k.open[len(k.open)-1]
	k.open = k.open[:len(k.open)-1]
	return k.enc.EncodeToken(e.End())
}

func (k *KMLWriter) container(local string, c KMLContainer) error {
	if err := k.start(xml.StartElement{Name: xml.Name{Local: local}}); err != nil {
		return err
	}
	if err := k.enc.Encode(kml.Name(c.Name)); err != nil {
		return err
	}
	if c.Description == "" {
		return nil
	}
	return k.enc.Encode(kml.Description(html.EscapeString(c.Description)))
}

// StartFolder opens a folder; the placemarks written until EndFolder go
// into it.
func (k *KMLWriter) StartFolder(f KMLContainer) error {
	return k.container("Folder", f)
}

// EndFolder closes the folder StartFolder opened last.
func (k *KMLWriter) EndFolder() error {
	if len(k.open) < 3 || k.open[len(k.open)-1].Name.Local != "Folder" {
		return ErrKMLState
	}
	return k.end()
}

// Placemark writes one placemark. Its geometry is encoded by go-geom's KML
// encoding: polygons with their holes, multi-geometries as MultiGeometry.
func (k *KMLWriter) Placemark(p KMLPlacemark) error {
	if k.closed {
		return ErrKMLState
	}
	children := []kml.Element{kml.Name(p.Name)}
	if p.Snippet != "" {
		children = append(children, kml.Snippet(p.Snippet))
	}
	if len(p.Data) > 0 {
		children = append(children, kml.Description(descriptionTable(p.Data)))
	}
	if p.StyleID != "" {
		children = append(children, kml.StyleURL("#"+p.StyleID))
	}
	if len(p.Data) > 0 {
		data := make([]kml.Element, len(p.Data))
		for i, d := range p.Data {
			data[i] = kml.Data(d.Name, kml.DisplayName(d.DisplayName), kml.Value(d.Value))
		}
		children = append(children, kml.ExtendedData(data...))
	}
	if p.Geometry != nil {
		g, err := kmlGeometry(p.Geometry)
		if err != nil {
			return err
		}
		children = append(children, g)
	}
	return k.enc.Encode(kml.Placemark(children...))
}

// Close ends every open element and flushes the document to the writer.
func (k *KMLWriter) Close() error {
	if k.closed {
		return ErrKMLState
	}
	for len(k.open) > 0 {
		if err := k.end(); err != nil {
			return err
		}
	}
	k.closed = true
	if err := k.enc.Flush(); err != nil {
		return err
	}
	if err := k.bw.WriteByte('\n'); err != nil {
		return err
	}
	return k.bw.Flush()
}

// descriptionTable is the description of a placemark: its properties as
// an HTML table. Every key and value is escaped, since KML clients render
// the description as HTML and the values are user text.
func descriptionTable(data []KMLData) string {
	var b strings.Builder
	b.WriteString("<table>")
	for _, d := range data {
		label := d.DisplayName
		if label == "" {
			label = d.Name
		}
		b.WriteString("<tr><th>")
		b.WriteString(html.EscapeString(label))
		b.WriteString("</th><td>")
		b.WriteString(html.EscapeString(d.Value))
		b.WriteString("</td></tr>")
	}
	b.WriteString("</table>")
	return b.String()
}

func kmlStyle(s KMLStyle) (*kml.StyleElement, error) {
	var parts []kml.Element
	if s.Icon != "" {
		c, err := kmlColor(s.Icon, 1)
		if err != nil {
			return nil, fmt.Errorf("style %s: %w", s.ID, err)
		}
		parts = append(parts, kml.IconStyle(kml.Color(c), kml.Scale(s.IconScale), kml.Icon(kml.Href(pointIcon))))
	}
	if s.Line != "" {
		c, err := kmlColor(s.Line, s.LineOpacity)
		if err != nil {
			return nil, fmt.Errorf("style %s: %w", s.ID, err)
		}
		parts = append(parts, kml.LineStyle(kml.Color(c), kml.Width(s.LineWidth)))
	}
	if s.Fill != "" {
		c, err := kmlColor(s.Fill, s.FillOpacity)
		if err != nil {
			return nil, fmt.Errorf("style %s: %w", s.ID, err)
		}
		parts = append(parts, kml.PolyStyle(kml.Color(c), kml.Fill(true), kml.Outline(s.Line != "")))
	}
	return kml.SharedStyle(s.ID, parts...), nil
}

// kmlColor parses "#rrggbb" with an opacity from 0 to 1. go-kml writes
// the four channels of RGBA() as they are, in KML's aabbggrr order, and
// KML colours are not premultiplied: so the channels go into a
// color.RGBA unmultiplied.
func kmlColor(hex string, opacity float64) (color.RGBA, error) {
	if len(hex) != 7 || hex[0] != '#' {
		return color.RGBA{}, fmt.Errorf("colour %q is not #rrggbb", hex)
	}
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil {
		return color.RGBA{}, fmt.Errorf("colour %q is not #rrggbb", hex)
	}
	a := min(max(opacity, 0), 1)
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: uint8(a*255 + 0.5)}, nil
}

// kmlGeometry encodes g as a KML geometry element, through go-geom. Rings
// and bounds are written as polygons; an unsupported type is an error.
func kmlGeometry(g orb.Geometry) (xml.Marshaler, error) {
	t, err := toGeom(g)
	if err != nil {
		return nil, err
	}
	return geomkml.Encode(t)
}

// toGeom converts an orb geometry to the go-geom one with the same
// coordinates, in two dimensions.
func toGeom(g orb.Geometry) (geom.T, error) {
	switch g := g.(type) {
	case orb.Point:
		return geom.NewPointFlat(geom.XY, []float64{g[0], g[1]}), nil
	case orb.MultiPoint:
		return geom.NewMultiPointFlat(geom.XY, flatPoints(nil, g)), nil
	case orb.LineString:
		return geom.NewLineStringFlat(geom.XY, flatPoints(nil, g)), nil
	case orb.MultiLineString:
		var flat []float64
		ends := make([]int, len(g))
		for i, l := range g {
			flat = flatPoints(flat, l)
			ends[i] = len(flat)
		}
		return geom.NewMultiLineStringFlat(geom.XY, flat, ends), nil
	case orb.Ring:
		return toGeom(orb.Polygon{g})
	case orb.Bound:
		return toGeom(g.ToPolygon())
	case orb.Polygon:
		flat, ends := flatPolygon(nil, g)
		return geom.NewPolygonFlat(geom.XY, flat, ends), nil
	case orb.MultiPolygon:
		var flat []float64
		endss := make([][]int, len(g))
		for i, p := range g {
			flat, endss[i] = flatPolygon(flat, p)
		}
		return geom.NewMultiPolygonFlat(geom.XY, flat, endss), nil
	case orb.Collection:
		c := geom.NewGeometryCollection()
		for _, m := range g {
			t, err := toGeom(m)
			if err != nil {
				return nil, err
			}
			if err := c.Push(t); err != nil {
				return nil, err
			}
		}
		return c, nil
	default:
		return nil, fmt.Errorf("geo: cannot encode %T as KML", g)
	}
}

func flatPoints(dst []float64, ps []orb.Point) []float64 {
	for _, p := range ps {
		dst = append(dst, p[0], p[1])
	}
	return dst
}

func flatPolygon(dst []float64, p orb.Polygon) ([]float64, []int) {
	ends := make([]int, len(p))
	for i, r := range p {
		dst = flatPoints(dst, r)
		ends[i] = len(dst)
	}
	return dst, ends
}
