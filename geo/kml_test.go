package geo

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/twpayne/go-kml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// canonicalXML re-encodes an XML document token by token with one
// indentation, dropping whitespace-only text and namespace declarations
// (encoding/xml would repeat them on every element), so that a golden
// file compares by content and not by layout.
func canonicalXML(t *testing.T, b []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	enc.Indent("", "  ")
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, b)
		}
		switch v := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(v)) == 0 {
				continue
			}
		case xml.ProcInst, xml.Comment, xml.Directive:
			continue
		case xml.StartElement:
			v.Name.Space = ""
			var attrs []xml.Attr
			for _, a := range v.Attr {
				if a.Name.Space == "" && a.Name.Local != "xmlns" {
					attrs = append(attrs, a)
				}
			}
			v.Attr = attrs
			tok = v
		case xml.EndElement:
			v.Name.Space = ""
			tok = v
		}
		if err := enc.EncodeToken(xml.CopyToken(tok)); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String() + "\n"
}

// golden compares got with testdata/name after canonicalising both, or
// rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	c := canonicalXML(t, got)
	if *update {
		if err := os.WriteFile(path, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./geo -run %s -update to write it)", err, t.Name())
	}
	if w := canonicalXML(t, want); c != w {
		t.Errorf("KML differs from %s:\ngot:\n%s\nwant:\n%s", path, c, w)
	}
}

func TestKMLWriter(t *testing.T) {
	styles := []KMLStyle{
		{ID: "area-R", Line: "#666666", LineOpacity: 1, LineWidth: 1, Fill: "#FFFF00", FillOpacity: 0.6},
		{ID: "line", Line: "#808080", LineOpacity: 0.8, LineWidth: 3},
		{ID: "point", Icon: "#FF00FF", IconScale: 1},
	}
	var b bytes.Buffer
	k, err := NewKMLWriter(&b, KMLContainer{Name: "安置房 Resettlement", Description: "plots <b>west</b> of the park & more"}, styles)
	if err != nil {
		t.Fatalf("NewKMLWriter: %v", err)
	}
	placemarks := []KMLPlacemark{
		{
			Name: `<script>&"`, Snippet: "Plot with a courtyard", StyleID: "area-R",
			Data: []KMLData{{"name_zh", "中文名称 Name in Chinese", `<script>&"`}, {"area_mu", "", "12.5"}},
			Geometry: orb.MultiPolygon{
				{{{0, 0}, {4, 0}, {4, 4}, {0, 4}, {0, 0}}, {{1, 1}, {1, 2}, {2, 2}, {2, 1}, {1, 1}}},
				{{{5, 5}, {6, 5}, {6, 6}, {5, 5}}},
			},
		},
		{Name: "Polygon", StyleID: "area-R", Geometry: orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 0}}}},
		{Name: "Ring", Geometry: orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 0}}},
		{Name: "LineString", StyleID: "line", Geometry: orb.LineString{{121.4951234, 32.09}, {121.5, 32.1}}},
		{Name: "MultiLineString", StyleID: "line", Geometry: orb.MultiLineString{{{0, 0}, {1, 1}}, {{2, 2}, {3, 3}}}},
		{Name: "Point", StyleID: "point", Geometry: orb.Point{121.495, 32.09}},
		{Name: "MultiPoint", StyleID: "point", Geometry: orb.MultiPoint{{1, 2}, {3, 4}}},
		{Name: "No geometry"},
	}
	for i, p := range placemarks {
		if i == 3 {
			if err := k.StartFolder(KMLContainer{Name: "Lines and points"}); err != nil {
				t.Fatalf("StartFolder: %v", err)
			}
		}
		if err := k.Placemark(p); err != nil {
			t.Fatalf("Placemark(%s): %v", p.Name, err)
		}
		if i == 6 {
			if err := k.EndFolder(); err != nil {
				t.Fatalf("EndFolder: %v", err)
			}
		}
	}
	if err := k.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	golden(t, "writer.kml", b.Bytes())
	if head := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<kml xmlns="http://www.opengis.net/kml/2.2">`; !bytes.HasPrefix(b.Bytes(), []byte(head)) {
		t.Errorf("the document does not start with %s:\n%.200s", head, b.Bytes())
	}

	t.Run("Escaping", func(t *testing.T) {
		// The name is text, and the description a table in which the
		// user's markup is escaped before the XML escapes it again.
		var doc struct {
			Document struct {
				Description string `xml:"description"`
				Placemark   []struct {
					Name        string `xml:"name"`
					Description string `xml:"description"`
					Data        []struct {
						Name  string `xml:"name,attr"`
						Value string `xml:"value"`
					} `xml:"ExtendedData>Data"`
				}
			}
		}
		if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		p := doc.Document.Placemark[0]
		if p.Name != `<script>&"` {
			t.Errorf("name reads back as %q, want %q", p.Name, `<script>&"`)
		}
		if strings.Contains(p.Description, "<script>") || !strings.Contains(p.Description, "<td>&lt;script&gt;&amp;&#34;</td>") {
			t.Errorf("description does not escape the value: %s", p.Description)
		}
		if len(p.Data) != 2 || p.Data[0].Value != `<script>&"` {
			t.Errorf("ExtendedData = %+v, want name_zh = %q first", p.Data, `<script>&"`)
		}
		if d := doc.Document.Description; d != "plots &lt;b&gt;west&lt;/b&gt; of the park &amp; more" {
			t.Errorf("document description = %q, want it escaped as HTML", d)
		}
	})
}

func TestKMLWriterErrors(t *testing.T) {
	t.Run("ErrBadColour", func(t *testing.T) {
		_, err := NewKMLWriter(io.Discard, KMLContainer{Name: "x"}, []KMLStyle{{ID: "s", Fill: "red"}})
		if err == nil || !strings.Contains(err.Error(), `style s: colour "red" is not #rrggbb`) {
			t.Errorf("NewKMLWriter with fill red: err = %v, want it to name the style and the colour", err)
		}
	})
	t.Run("ErrEndFolderWithoutStart", func(t *testing.T) {
		k, err := NewKMLWriter(io.Discard, KMLContainer{Name: "x"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.EndFolder(); !errors.Is(err, ErrKMLState) {
			t.Errorf("EndFolder before StartFolder: err = %v, want ErrKMLState", err)
		}
	})
	t.Run("ErrAfterClose", func(t *testing.T) {
		k, err := NewKMLWriter(io.Discard, KMLContainer{Name: "x"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Close(); err != nil {
			t.Fatal(err)
		}
		if err := k.Placemark(KMLPlacemark{Name: "late"}); !errors.Is(err, ErrKMLState) {
			t.Errorf("Placemark after Close: err = %v, want ErrKMLState", err)
		}
	})
	t.Run("ErrUnsupportedGeometry", func(t *testing.T) {
		k, err := NewKMLWriter(io.Discard, KMLContainer{Name: "x"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Placemark(KMLPlacemark{Name: "bad", Geometry: orb.Collection{orb.Point{0, 0}, nil}}); err == nil {
			t.Errorf("Placemark with a nil member of a collection: no error")
		}
	})
}

func TestKMLColor(t *testing.T) {
	tests := []struct {
		name    string
		hex     string
		opacity float64
		want    string
	}{
		{"Opaque", "#FFFF00", 1, "ff00ffff"},
		{"HalfTransparent", "#7F5F3F", 0.5, "803f5f7f"},
		{"Clamped", "#000000", 2, "ff000000"},
		{"Lower", "#7fbfff", 0, "00ffbf7f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := kmlColor(tt.hex, tt.opacity)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			k := xml.NewEncoder(&b)
			if err := k.Encode(kml.Color(c)); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != "<color>"+tt.want+"</color>" {
				t.Errorf("kmlColor(%q, %g) is written as %s, want <color>%s</color>", tt.hex, tt.opacity, got, tt.want)
			}
		})
	}
}
