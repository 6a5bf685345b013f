package layers

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteGeoJSON writes layer id as a layer file: an RFC 7946
// FeatureCollection that QGIS opens cleanly (INTEROP.md §5: no crs member,
// right-hand rule, integer ids, one type per property, ISO dates, name set
// to the layer id) whose foreign members carry the layer's declaration, so
// the file can be imported again as it is. Features are streamed in id
// order; progress, when set, is called every 1000 features.
func (s *Store) WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error {
	tx, l, err := s.readLayer(ctx, id)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	total := 0
	if progress != nil {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM `+quoteIdent(id)).Scan(&total); err != nil {
			return err
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	head, err := declarationJSON(l)
	if err != nil {
		return err
	}
	bw.Write(head)
	bw.WriteString(`"features": [`)
	n := 0
	var buf []byte
	err = eachFeature(ctx, tx, l, Query{}, func(f Feature) error {
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		buf = appendFeature(buf[:0], l, f)
		bw.Write(buf)
		n++
		if progress != nil && n%1000 == 0 {
			progress(n, total)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if progress != nil {
		progress(n, total)
	}
	bw.WriteString("\n]\n}\n")
	return bw.Flush()
}

// declarationJSON returns the opening of a layer file, up to the features
// member, one declaration member per line.
func declarationJSON(l *Layer) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("{\n\"type\": \"FeatureCollection\",\n")
	members := []struct {
		name string
		v    any
	}{
		{"name", l.ID}, {"id", l.ID}, {"title", l.Title}, {"description", l.Description},
		{"geometryType", l.GeometryType}, {"order", l.Order}, {"schema", l.Schema}, {"style", l.Style},
	}
	for _, m := range members {
		v, err := marshal(m.v)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%q: %s,\n", m.name, v)
	}
	return b.Bytes(), nil
}

// marshal is json.Marshal without HTML escaping: the output is a data
// file, and <, > and & read better as themselves.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// appendFeature appends f as a compact GeoJSON Feature with its properties
// in schema order.
func appendFeature(dst []byte, l *Layer, f Feature) []byte {
	return appendFeatureJSON(dst, f.ID, appendProperties(nil, l, f.Properties, nil), f.Geometry)
}

// appendJSONString appends s as a JSON string, escaping only what JSON
// requires (and U+2028/2029, which break JavaScript).
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9):
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[s[i+2]&0xf])
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// ExportGPKG writes a standalone GeoPackage of the given layers (all when
// ids is empty) to path, replacing any file there. It copies a consistent
// snapshot with VACUUM INTO, so it may run while the server is serving and
// writing; the copy is in rollback-journal mode, a single file to hand on.
func (s *Store) ExportGPKG(ctx context.Context, path string, ids ...string) error {
	if s.IsDatabase(path) {
		return Errorf(EINVALID, "%s is the database itself; export to another file", path)
	}
	keep := map[string]bool{}
	for _, id := range ids {
		if _, err := s.Layer(ctx, id); err != nil {
			return err
		}
		keep[id] = true
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".planmap-export-*.gpkg")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	os.Remove(tmpPath) // VACUUM INTO wants to create the file itself
	defer removeDB(tmpPath)

	// VACUUM INTO reads one snapshot, on a read-only connection: it waits
	// for no writer, and no writer waits for it.
	if _, err := s.read.ExecContext(ctx, `VACUUM INTO ?`, tmpPath); err != nil {
		return fmt.Errorf("export snapshot: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(tmpPath, "_pragma=journal_mode(DELETE)", "_pragma=foreign_keys(1)"))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if len(ids) > 0 {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		all, err := listLayers(ctx, tx)
		if err != nil {
			return err
		}
		for _, l := range all {
			if !keep[l.ID] {
				if err := dropLayer(ctx, tx, l.ID); err != nil {
					return err
				}
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `VACUUM`); err != nil {
			return err
		}
	}
	if err := db.Close(); err != nil {
		return err
	}
	return os.Rename(tmpPath, path)
}

// IsDatabase reports whether path names the database file or its -wal or
// -shm file, which an export must never overwrite.
func (s *Store) IsDatabase(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if db, err := os.Stat(s.path + suffix); err == nil && os.SameFile(fi, db) {
			return true
		}
	}
	return false
}
