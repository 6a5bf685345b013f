package postgis

import (
	"context"

	"planmap/layers"
)

// Shapes returns page p of the shapes of layer id's features that f
// selects, with only the values of fields: what a vector tile needs.
// PostGIS reads whole rows here (Items, then the fields picked out); a
// leaner read, as the GeoPackage store's, is for when tiles are served
// from PostGIS at scale (issue 15's ST_AsMVT comparison).
func (s *Store) Shapes(ctx context.Context, id string, f layers.Filter, p layers.Page, fields []string) ([]layers.Shape, int, error) {
	items, matched, err := s.Items(ctx, id, f, p)
	if err != nil {
		return nil, 0, err
	}
	col, err := s.follow.Collection(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	return layers.AppendShapes(nil, col.Layer, items, fields), matched, nil
}

// LoadShapes returns the shapes of the features fids of layer id that
// exist, in the order of fids, with only the values of fields.
func (s *Store) LoadShapes(ctx context.Context, id string, fids []int64, fields []string) ([]layers.Shape, error) {
	items, err := s.Load(ctx, id, fids)
	if err != nil {
		return nil, err
	}
	col, err := s.follow.Collection(ctx, id)
	if err != nil {
		return nil, err
	}
	return layers.AppendShapes(nil, col.Layer, items, fields), nil
}
