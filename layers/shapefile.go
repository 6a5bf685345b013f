package layers

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"

	"planmap/geo"
)

// isShapefile reports whether name is a shapefile input: a .shp, or a .zip
// that holds shapefiles.
func isShapefile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".shp" || ext == ".zip"
}

// maxZipEntry bounds what one file in a .zip may unpack to, so that a zip
// bomb is refused instead of filling the memory.
const maxZipEntry = 1 << 30

// ReadShapefile reads a shapefile (the .shp at name with its .dbf, .prj
// and optional .cpg beside it) or every shapefile in a .zip, one File per
// shapefile. The layer id is the file name, lower-cased, with every run of
// other characters than a–z and 0–9 made one _; the CRS comes from the
// .prj (ESRI WKT, read by its name) through SourceCRS; the text encoding
// from the .cpg, else the DBF language driver byte, else the text itself:
// UTF-8 when it is valid UTF-8, GBK otherwise. The DBF fields, with their
// names lower-cased, declare the layer when it does not exist yet; an
// integer field named id gives the feature ids, and without one the
// features get new ids. Geometries are checked as a layer file's are, and
// every problem is reported as "NAME: feature N: …".
func ReadShapefile(name string) ([]*File, error) {
	if strings.EqualFold(filepath.Ext(name), ".zip") {
		return readShapefileZip(name)
	}
	dir, base := filepath.Split(name)
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return nil, Errorf(EINVALID, "%s: %v", name, err)
	}
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	sibling := func(ext string) ([]byte, error) {
		for _, e := range entries {
			if !e.IsDir() && strings.EqualFold(e.Name(), stem+ext) {
				return os.ReadFile(filepath.Join(dir, e.Name()))
			}
		}
		return nil, fs.ErrNotExist
	}
	f, err := decodeShapefile(name, stem, sibling)
	if err != nil {
		return nil, err
	}
	return []*File{f}, nil
}

func readShapefileZip(name string) ([]*File, error) {
	zr, err := zip.OpenReader(name)
	if err != nil {
		return nil, Errorf(EINVALID, "%s: not a zip file that can be read: %v", name, err)
	}
	defer zr.Close()
	byName := map[string]*zip.File{}
	var shps []*zip.File
	for _, zf := range zr.File {
		// Archives made on a Mac carry resource forks under __MACOSX.
		if zf.FileInfo().IsDir() || strings.HasPrefix(zf.Name, "__MACOSX/") {
			continue
		}
		byName[strings.ToLower(zf.Name)] = zf
		if strings.EqualFold(path.Ext(zf.Name), ".shp") {
			shps = append(shps, zf)
		}
	}
	if len(shps) == 0 {
		return nil, Errorf(EINVALID, "%s: holds no shapefile (.shp)", name)
	}
	var files []*File
	var msgs []string
	for _, shp := range shps {
		stem := strings.TrimSuffix(shp.Name, path.Ext(shp.Name))
		sibling := func(ext string) ([]byte, error) {
			zf, ok := byName[strings.ToLower(stem+ext)]
			if !ok {
				return nil, fs.ErrNotExist
			}
			if zf.UncompressedSize64 > maxZipEntry {
				return nil, fmt.Errorf("%s unpacks to %d bytes, more than the %d planmap reads", zf.Name, zf.UncompressedSize64, maxZipEntry)
			}
			rc, err := zf.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			data, err := io.ReadAll(io.LimitReader(rc, maxZipEntry+1))
			if err == nil && len(data) > maxZipEntry {
				err = fmt.Errorf("%s unpacks to more than the %d bytes planmap reads", zf.Name, maxZipEntry)
			}
			return data, err
		}
		f, err := decodeShapefile(name+":"+shp.Name, path.Base(stem), sibling)
		if err != nil {
			msgs = append(msgs, err.Error())
			continue
		}
		files = append(files, f)
	}
	if len(msgs) > 0 {
		return nil, &Error{Code: EINVALID, Message: strings.Join(msgs, "\n")}
	}
	return files, nil
}

// decodeShapefile reads one shapefile; sibling returns the bytes of the
// file with the same stem and the given extension.
func decodeShapefile(name, stem string, sibling func(ext string) ([]byte, error)) (*File, error) {
	read := func(ext, why string) ([]byte, error) {
		data, err := sibling(ext)
		switch {
		case errors.Is(err, fs.ErrNotExist) && why != "":
			return nil, Errorf(EINVALID, "%s: has no %s beside it, %s", name, ext, why)
		case errors.Is(err, fs.ErrNotExist):
			return nil, nil
		case err != nil:
			return nil, Errorf(EINVALID, "%s: %s: %v", name, ext, err)
		}
		return data, nil
	}
	shp, err := read(".shp", "the geometry")
	if err != nil {
		return nil, err
	}
	dbfData, err := read(".dbf", "the attribute table every shapefile has")
	if err != nil {
		return nil, err
	}
	prj, err := read(".prj", "so its CRS is unknown; planmap needs it")
	if err != nil {
		return nil, err
	}
	cpg, err := read(".cpg", "")
	if err != nil {
		return nil, err
	}
	toLonLat, err := crsFromWKT(string(prj))
	if err != nil {
		return nil, Errorf(EINVALID, "%s: .prj: %s", name, err.Error())
	}
	typ, geoms, err := geo.DecodeShp(shp)
	if err != nil {
		return nil, Errorf(EINVALID, "%s: %v", name, err)
	}
	dbf, err := geo.DecodeDBF(dbfData)
	if err != nil {
		return nil, Errorf(EINVALID, "%s: .dbf: %v", name, err)
	}
	if dbf.Len() != len(geoms) {
		return nil, Errorf(EINVALID, "%s: the .shp has %d records and the .dbf %d; they must match", name, len(geoms), dbf.Len())
	}
	text, err := dbfEncoding(cpg, dbf)
	if err != nil {
		return nil, Errorf(EINVALID, "%s: %v", name, err)
	}
	if err := dbf.DecodeNames(text); err != nil {
		return nil, Errorf(EINVALID, "%s: .dbf: %v", name, err)
	}

	var p Problems
	f := &File{Name: name, LayerID: layerIDFromName(stem)}
	if f.LayerID == "" {
		p.Add("%s: the file name gives no layer id (letters a–z, digits and _, starting with a letter, not starting with %s): rename the file", name, strings.Join(reservedPrefixes, ", "))
		return nil, p.Err()
	}
	l := &Layer{ID: f.LayerID, Title: Text{Zh: stem, En: stem}, GeometryType: typ.GeometryType()}
	idField := -1
	for i, fd := range dbf.Fields {
		fname := strings.ToLower(fd.Name)
		if fname == "id" && fd.Type == 'N' && fd.Decimals == 0 {
			idField = i
			continue
		}
		l.Schema = append(l.Schema, Field{Name: fname, Type: dbfFieldType(fd)})
	}
	if typ == geo.ShapeNull {
		// A file of null shapes says nothing of its geometry type.
		l.GeometryType = ""
	}
	f.inferred = l

	zCount, nDeleted := 0, 0
	for i, g := range geoms {
		where := fmt.Sprintf("%s: feature %d", name, i+1)
		deleted, vals, err := dbf.Record(i, text)
		if deleted {
			nDeleted++
			continue
		}
		if err != nil {
			p.Add("%s: %v", where, err)
			continue
		}
		rf := rawFeature{props: map[string]any{}}
		for k, v := range vals {
			if k == idField {
				id, ok := v.(int64)
				if ok && id > 0 {
					rf.id = id
					where += fmt.Sprintf(" (id %d)", id)
				} else if v != nil {
					p.Add("%s: id %v is not a positive integer", where, v)
				}
				continue
			}
			if v != nil {
				rf.props[strings.ToLower(dbf.Fields[k].Name)] = jsonValue(v)
			}
		}
		if g == nil {
			p.Add("%s: has no geometry (a null shape)", where)
			continue
		}
		if typ.HasZ() {
			zCount++
		}
		if g, err = toLonLat(g); err != nil {
			p.Add("%s: %v", where, err)
			continue
		}
		if err := geo.Validate(g); err != nil {
			p.Add("%s: %s: %v", where, g.GeoJSONType(), err)
			continue
		}
		rf.geometry = g
		f.raw = append(f.raw, rf)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	if err := setIDs(f); err != nil {
		return nil, err
	}
	if zCount > 0 {
		f.Warnings = append(f.Warnings, fmt.Sprintf("%s: %d features have Z coordinates; heights were dropped", name, zCount))
	}
	if nDeleted > 0 {
		f.Warnings = append(f.Warnings, fmt.Sprintf("%s: %d records marked deleted in the .dbf were left out", name, nDeleted))
	}
	return f, nil
}

// setIDs checks the ids an id field gave: all features have one, each
// used once; or none has, and the features get new ids.
func setIDs(f *File) error {
	var p Problems
	seen := map[int64]int{}
	withID := 0
	for i, rf := range f.raw {
		if rf.id == 0 {
			continue
		}
		withID++
		if first, dup := seen[rf.id]; dup {
			p.Add("%s: feature %d (id %d): id %d is already used by feature %d", f.Name, i+1, rf.id, rf.id, first)
		}
		seen[rf.id] = i + 1
	}
	switch {
	case withID == 0 && len(f.raw) > 0:
		f.NewIDs = true
		f.Warnings = append(f.Warnings, fmt.Sprintf("%s: no id field; all %d features get new ids after the layer's highest (importing this file again adds them again)", f.Name, len(f.raw)))
	case withID < len(f.raw):
		p.Add("%s: %d of %d features have no id; give every feature a stable positive integer id", f.Name, len(f.raw)-withID, len(f.raw))
	}
	return p.Err()
}

// layerIDFromName makes a layer id from a file name: lower-cased, every
// run of other characters than a–z and 0–9 one _; "" when that is not a
// valid id.
func layerIDFromName(stem string) string {
	if id := esriKey(stem); ValidID(id) {
		return id
	}
	return ""
}

// dbfFieldType is the schema type of a DBF field.
func dbfFieldType(fd geo.DBFField) FieldType {
	switch fd.Type {
	case 'N':
		// 18 digits always fit in an int64.
		if fd.Decimals == 0 && fd.Length <= 18 {
			return Integer
		}
		return Number
	case 'F':
		return Number
	case 'L':
		return Boolean
	case 'D':
		return Date
	}
	return String
}

// jsonValue turns a DBF value into what a layer file's JSON decodes to,
// so that the one property check serves both.
func jsonValue(v any) any {
	switch v := v.(type) {
	case int64:
		return json.Number(strconv.FormatInt(v, 10))
	case float64:
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
	}
	return v
}

// dbfEncoding returns the text decoder of a shapefile: the .cpg's code
// page, else the DBF language driver byte's, else UTF-8 when every text of
// the table is valid UTF-8 and GBK when not (Chinese data without a .cpg
// is mostly GBK, and GBK text is almost never valid UTF-8).
func dbfEncoding(cpg []byte, dbf *geo.DBF) (func([]byte) (string, error), error) {
	var enc encoding.Encoding
	switch {
	case len(bytes.TrimSpace(cpg)) > 0:
		name := strings.TrimSpace(string(cpg))
		key := strings.ToUpper(strings.NewReplacer("-", "", "_", "", " ", "").Replace(name))
		switch key {
		case "UTF8", "65001":
			return utf8Text, nil
		case "GBK", "CP936", "936", "ANSI936", "GB2312", "GB18030", "54936", "CP54936":
			enc = simplifiedchinese.GB18030
		case "BIG5", "CP950", "950", "ANSI950":
			enc = traditionalchinese.Big5
		default:
			return nil, fmt.Errorf(".cpg names the encoding %q; planmap reads UTF-8, GBK (CP936, GB18030) and Big5 (CP950)", name)
		}
	case dbf.LanguageDriver == 0x4D || dbf.LanguageDriver == 0x7A: // CP936
		enc = simplifiedchinese.GB18030
	case dbf.LanguageDriver == 0x4F || dbf.LanguageDriver == 0x78: // CP950
		enc = traditionalchinese.Big5
	case dbf.EachText(utf8.Valid):
		return utf8Text, nil
	default:
		enc = simplifiedchinese.GB18030
	}
	dec := enc.NewDecoder()
	return func(b []byte) (string, error) {
		s, err := dec.Bytes(b)
		return string(s), err
	}, nil
}

func utf8Text(b []byte) (string, error) {
	if !utf8.Valid(b) {
		return "", fmt.Errorf("text %q is not valid UTF-8, as the .cpg says it is", b)
	}
	return string(b), nil
}
