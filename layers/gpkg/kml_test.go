package gpkg_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"planmap/layers"
	"planmap/layers/gpkg"
	"planmap/layers/layerstest"
	"planmap/seeds"
)

// kmlDoc is what the KML tests read back from a document.
type kmlDoc struct {
	Document struct {
		Name   string `xml:"name"`
		Styles []struct {
			ID   string `xml:"id,attr"`
			Line string `xml:"LineStyle>color"`
			Poly string `xml:"PolyStyle>color"`
			Icon string `xml:"IconStyle>color"`
		} `xml:"Style"`
		Placemarks []kmlPlacemark `xml:"Placemark"`
		Folders    []struct {
			Name       string         `xml:"name"`
			Placemarks []kmlPlacemark `xml:"Placemark"`
		} `xml:"Folder"`
	}
}

type kmlPlacemark struct {
	Name     string `xml:"name"`
	StyleURL string `xml:"styleUrl"`
	Data     []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value"`
	} `xml:"ExtendedData>Data"`
}

func (p kmlPlacemark) data(name string) string {
	for _, d := range p.Data {
		if d.Name == name {
			return d.Value
		}
	}
	return ""
}

// kmlColor is "#rrggbb" at an opacity in KML's aabbggrr.
func kmlColor(hex string, alpha float64) string {
	h := strings.ToLower(hex[1:])
	return fmt.Sprintf("%02x", int(alpha*255+0.5)) + h[4:6] + h[2:4] + h[0:2]
}

func seededStore(t *testing.T) *gpkg.Store {
	t.Helper()
	s := layerstest.MustOpen(t)
	files, err := layers.ReadFS(seeds.FS)
	if err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, layers.ImportOptions{}, files...)
	return s
}

// Every seed layer comes out as one Document with a placemark per
// feature, named by name_zh, each drawn in the colour that Layer.Symbol
// (and so the web map) gives it.
func TestWriteKML(t *testing.T) {
	s := seededStore(t)
	ls, err := s.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		t.Run(l.ID, func(t *testing.T) {
			var b bytes.Buffer
			if err := s.WriteKML(ctx, &b, l.ID); err != nil {
				t.Fatalf("WriteKML(%s): %v", l.ID, err)
			}
			var doc kmlDoc
			if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
				t.Fatalf("WriteKML(%s) is not XML: %v", l.ID, err)
			}
			if want := l.Title.Zh + " " + l.Title.En; doc.Document.Name != want {
				t.Errorf("Document name = %q, want %q", doc.Document.Name, want)
			}
			var feats []layers.Feature
			if err := s.Features(ctx, l.ID, func(f layers.Feature) error {
				feats = append(feats, f)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			pms := doc.Document.Placemarks
			if len(pms) != len(feats) {
				t.Fatalf("%d placemarks, want one per feature (%d)", len(pms), len(feats))
			}
			styles := map[string]int{}
			for i, st := range doc.Document.Styles {
				styles["#"+st.ID] = i
			}
			used := map[string]bool{}
			for i, f := range feats {
				p := pms[i]
				if want, _ := f.Properties["name_zh"].(string); p.Name != want {
					t.Errorf("placemark %d is named %q, want name_zh %q", i, p.Name, want)
				}
				if got, want := p.data("name_en"), f.Properties["name_en"]; got != want {
					t.Errorf("placemark %q: ExtendedData name_en = %q, want %q", p.Name, got, want)
				}
				si, ok := styles[p.StyleURL]
				if !ok {
					t.Errorf("placemark %q: styleUrl %q names no style of the document", p.Name, p.StyleURL)
					continue
				}
				used[p.StyleURL] = true
				st := doc.Document.Styles[si]
				class, _ := f.Properties[layers.ClassField].(string)
				conf, _ := f.Properties[layers.ConfidenceField].(string)
				sym := l.Symbol(class, conf)
				var got, want string
				switch {
				case l.IsPoint():
					got, want = st.Icon, kmlColor(sym.FillColor, 1)
				case l.IsLine():
					got, want = st.Line, kmlColor(sym.Color, sym.Opacity)
				default:
					got, want = st.Poly, kmlColor(sym.FillColor, sym.FillOpacity)
				}
				if got != want {
					t.Errorf("placemark %q (class %q) is drawn in %s, want %s", p.Name, class, got, want)
				}
			}
			if len(used) != len(styles) {
				t.Errorf("%d styles, %d of them used: one style per symbol in use", len(styles), len(used))
			}
		})
	}
}

func TestWriteAllKML(t *testing.T) {
	s := seededStore(t)
	ls, err := s.Layers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.WriteAllKML(ctx, &b); err != nil {
		t.Fatalf("WriteAllKML: %v", err)
	}
	var doc kmlDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("WriteAllKML is not XML: %v", err)
	}
	if len(doc.Document.Folders) != len(ls) {
		t.Fatalf("%d folders, want one per layer (%d)", len(doc.Document.Folders), len(ls))
	}
	ids := map[string]bool{}
	for _, st := range doc.Document.Styles {
		if ids[st.ID] {
			t.Errorf("style id %s appears twice", st.ID)
		}
		ids[st.ID] = true
	}
	for i, l := range ls {
		f := doc.Document.Folders[i]
		if want := l.Title.Zh + " " + l.Title.En; f.Name != want {
			t.Errorf("folder %d is %q, want %q (drawing order)", i, f.Name, want)
		}
		n, err := s.Count(ctx, l.ID, layers.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Placemarks) != n {
			t.Errorf("folder %s has %d placemarks, want %d", l.ID, len(f.Placemarks), n)
		}
		for _, p := range f.Placemarks {
			if !ids[strings.TrimPrefix(p.StyleURL, "#")] || !strings.HasPrefix(p.StyleURL, "#"+l.ID+"-") {
				t.Errorf("placemark %q of %s refers to style %q, not one of its layer's", p.Name, l.ID, p.StyleURL)
			}
		}
	}
}

func TestWriteKMLUnknownLayer(t *testing.T) {
	s := seededStore(t)
	var b bytes.Buffer
	err := s.WriteKML(ctx, &b, "nosuch")
	if layers.ErrorCode(err) != layers.ENOTFOUND {
		t.Errorf("WriteKML(nosuch) = %v, want ENOTFOUND", err)
	}
	if b.Len() != 0 {
		t.Errorf("WriteKML(nosuch) wrote %d bytes before failing", b.Len())
	}
}
