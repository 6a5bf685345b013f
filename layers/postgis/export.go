package postgis

import (
	"bufio"
	"context"
	"io"

	"planmap/layers"
)

// WriteGeoJSON writes layer id as a layer file, byte for byte as the
// GeoPackage store writes the same layer (layers.DeclarationJSON, then
// each feature in id order through layers.AppendFeature), streamed from
// one snapshot; progress, when set, is called every 1000 features.
func (s *Store) WriteGeoJSON(ctx context.Context, w io.Writer, id string, progress func(done, total int)) error {
	tx, err := s.readOnly(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	l, err := getLayer(ctx, tx, id)
	if err != nil {
		return err
	}
	total := 0
	if progress != nil {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+quoteIdent(id)).Scan(&total); err != nil {
			return err
		}
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	head, err := layers.DeclarationJSON(l)
	if err != nil {
		return err
	}
	bw.Write(head)
	bw.WriteString(`"features": [`)
	n := 0
	var buf []byte
	err = eachRow(ctx, tx, l, selectColumns(l)+" ORDER BY fid", nil, func(f layers.Feature) error {
		if n > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n")
		buf = layers.AppendFeature(buf[:0], l, f)
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

// Features calls fn for each feature of layer id in id order, streaming
// them from one snapshot. It stops at fn's first error.
func (s *Store) Features(ctx context.Context, id string, fn func(layers.Feature) error) error {
	tx, err := s.readOnly(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	l, err := getLayer(ctx, tx, id)
	if err != nil {
		return err
	}
	return eachRow(ctx, tx, l, selectColumns(l)+" ORDER BY fid", nil, fn)
}
