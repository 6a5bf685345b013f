package web

// Problems is what a store that checks the features other programs write
// (QGIS, GDAL, psql: direct edits, which nothing can refuse) tells of those
// that failed: the GeoPackage and PostGIS stores (layers.DirectChecks) and
// the cache in front of either are ones.
type Problems interface {
	// Problem returns why feature fid of layer failed the checks (schema,
	// geometry, planning rules) after a direct edit, or "".
	Problem(layer string, fid int64) string
}

// appendProblem appends to a feature's JSON object, open at its end, the
// member "invalid" with why the feature failed the checks after a direct
// edit, when it did.
func (s *server) appendProblem(dst []byte, layer string, fid int64) []byte {
	p, ok := s.store.(Problems)
	if !ok {
		return dst
	}
	msg := p.Problem(layer, fid)
	if msg == "" {
		return dst
	}
	return appendString(append(dst, `,"invalid":`...), msg)
}
