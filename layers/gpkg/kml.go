package gpkg

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"

	"planmap/geo"
	"planmap/layers"
)

// measureLabels name the computed measures for a person, as KML shows
// them beside the layer's own fields.
var measureLabels = map[string]string{
	layers.AreaM2:  "面积（平方米） Area (m²)",
	layers.AreaHa:  "面积（公顷） Area (ha)",
	layers.AreaMu:  "面积（亩） Area (mu)",
	layers.LengthM: "长度（米） Length (m)",
}

// WriteKML writes layer id as a KML document for Google Earth, 奥维互动地图
// and other KML clients: one Document named after the layer, one shared
// style per symbol the features use (colours from Classes and
// Layer.Symbol, as on the web map), and one Placemark per feature in id
// order, named by name_zh, with its properties and measures as
// ExtendedData and as a table in its description. It reads one
// consistent snapshot.
func (s *Store) WriteKML(ctx context.Context, w io.Writer, id string) error {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	styles, err := kmlStyles(ctx, tx, l, "")
	if err != nil {
		return err
	}
	k, err := geo.NewKMLWriter(w, kmlContainer(l), styles.list)
	if err != nil {
		return err
	}
	if err := writePlacemarks(ctx, tx, k, l, styles); err != nil {
		return err
	}
	return k.Close()
}

// WriteAllKML writes every layer as one KML document, a Folder per layer
// in drawing order, each as WriteKML writes it.
func (s *Store) WriteAllKML(ctx context.Context, w io.Writer) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	all, err := listLayers(ctx, tx)
	if err != nil {
		return err
	}
	// KML looks for shared styles at the head of the Document, so every
	// layer's are gathered first, their ids prefixed with the layer's.
	var list []geo.KMLStyle
	styles := make([]*kmlStyleSet, len(all))
	for i, l := range all {
		if styles[i], err = kmlStyles(ctx, tx, l, l.ID+"-"); err != nil {
			return err
		}
		list = append(list, styles[i].list...)
	}
	doc := geo.KMLContainer{Name: "海门港新区规划用地 Haimen Port New Area planned land use"}
	k, err := geo.NewKMLWriter(w, doc, list)
	if err != nil {
		return err
	}
	for i, l := range all {
		if err := k.StartFolder(kmlContainer(l)); err != nil {
			return err
		}
		if err := writePlacemarks(ctx, tx, k, l, styles[i]); err != nil {
			return err
		}
		if err := k.EndFolder(); err != nil {
			return err
		}
	}
	return k.Close()
}

func kmlContainer(l *layers.Layer) geo.KMLContainer {
	return geo.KMLContainer{
		Name:        l.Title.Zh + " " + l.Title.En,
		Description: l.Description.Zh + "\n" + l.Description.En,
	}
}

// kmlStyleSet is the shared styles of one layer, and which of them each
// pair of class and confidence values is drawn with.
type kmlStyleSet struct {
	list  []geo.KMLStyle
	byKey map[[2]string]string
}

func (ss *kmlStyleSet) id(l *layers.Layer, f layers.Feature) string {
	return ss.byKey[symbolKey(f.Properties[layers.ClassField], f.Properties[layers.ConfidenceField])]
}

// symbolKey is the pair of values Layer.Symbol takes, as text: empty when
// the layer lacks the field or the feature the value.
func symbolKey(class, confidence any) [2]string {
	str := func(v any) string {
		s, _ := v.(string)
		return s
	}
	return [2]string{str(class), str(confidence)}
}

// kmlStyles returns a style for each distinct symbol among the features
// of l. It asks the database for the distinct class and confidence pairs
// so that the styles can precede the placemarks without a second pass
// over the geometries. Pairs that draw alike in KML (which has no dashed
// outlines) share a style.
func kmlStyles(ctx context.Context, q querier, l *layers.Layer, prefix string) (*kmlStyleSet, error) {
	col := func(name string) string {
		if fd := l.Field(name); fd != nil && fd.Type == layers.String {
			return quoteIdent(name)
		}
		return "NULL"
	}
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT `+col(layers.ClassField)+`, `+col(layers.ConfidenceField)+` FROM `+quoteIdent(l.ID)+` ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ss := &kmlStyleSet{byKey: map[[2]string]string{}}
	seen := map[geo.KMLStyle]string{}
	for rows.Next() {
		var class, confidence sql.NullString
		if err := rows.Scan(&class, &confidence); err != nil {
			return nil, err
		}
		key := symbolKey(class.String, confidence.String)
		st := kmlStyle(l, l.Symbol(key[0], key[1]))
		id, ok := seen[st]
		if !ok {
			id = prefix + "s" + strconv.Itoa(len(ss.list)+1)
			seen[st] = id
			st.ID = id
			ss.list = append(ss.list, st)
		}
		ss.byKey[key] = id
	}
	return ss, rows.Err()
}

// kmlStyle is a symbol in KML's terms: the stroke of lines and outlines,
// the fill of areas, the tint of point icons. A radius of 6 px, the web
// map's default, is the client's own icon size.
func kmlStyle(l *layers.Layer, sym layers.Symbol) geo.KMLStyle {
	switch {
	case l.IsPoint():
		return geo.KMLStyle{Icon: sym.FillColor, IconScale: sym.Radius / 6}
	case l.IsLine():
		return geo.KMLStyle{Line: sym.Color, LineOpacity: sym.Opacity, LineWidth: sym.Weight}
	}
	return geo.KMLStyle{
		Line: sym.Color, LineOpacity: sym.Opacity, LineWidth: sym.Weight,
		Fill: sym.FillColor, FillOpacity: sym.FillOpacity,
	}
}

func writePlacemarks(ctx context.Context, q querier, k *geo.KMLWriter, l *layers.Layer, styles *kmlStyleSet) error {
	return eachFeature(ctx, q, l, func(f layers.Feature) error {
		if err := k.Placemark(kmlPlacemark(l, f, styles.id(l, f))); err != nil {
			return fmt.Errorf("layer %s, feature %d: %w", l.ID, f.ID, err)
		}
		return nil
	})
}

// kmlPlacemark is feature f as a placemark: named by its Chinese name
// (its English one as the snippet that lists show under it), with every
// property in schema order and then the measures.
func kmlPlacemark(l *layers.Layer, f layers.Feature, styleID string) geo.KMLPlacemark {
	p := geo.KMLPlacemark{StyleID: styleID, Geometry: f.Geometry}
	p.Name, _ = f.Properties["name_zh"].(string)
	p.Snippet, _ = f.Properties["name_en"].(string)
	if p.Name == "" {
		p.Name = p.Snippet
	}
	if p.Name == "" {
		p.Name = fmt.Sprintf("%s %d", l.ID, f.ID)
	}
	for _, fd := range l.Schema {
		v, ok := f.Properties[fd.Name]
		if !ok || v == nil {
			continue
		}
		p.Data = append(p.Data, geo.KMLData{
			Name:        fd.Name,
			DisplayName: fd.Description.Zh + " " + fd.Description.En,
			Value:       kmlValue(v),
		})
	}
	for _, m := range layers.Measures(f.Geometry) {
		p.Data = append(p.Data, geo.KMLData{
			Name:        m.Name,
			DisplayName: measureLabels[m.Name],
			Value:       strconv.FormatFloat(m.Value, 'f', m.Prec, 64),
		})
	}
	return p
}

func kmlValue(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}
