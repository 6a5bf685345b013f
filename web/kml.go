package web

import (
	"context"
	"io"
	"net/http"

	"planmap/web/filecache"
)

// mediaKML is KML's registered media type, which Google Earth and other
// KML clients open on download.
const mediaKML = "application/vnd.google-earth.kml+xml"

// downloadKML answers /collections/{id}/download.kml: the layer as one KML
// Document, built once per version of the layer like the other downloads.
func (s *server) downloadKML(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	return s.sendDownload(w, r, download{
		resource: "kml/" + col.ID, version: col.Version(),
		name: "haimen-" + col.ID + ".kml", contentType: mediaKML,
		build: filecache.WriterBuilder(func(ctx context.Context, w io.Writer) error {
			return s.store.WriteKML(ctx, w, col.ID)
		}),
	})
}

// downloadAllKML answers /download/planmap.kml: every layer, a Folder
// each.
func (s *server) downloadAllKML(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	return s.sendDownload(w, r, download{
		resource: "kml", version: catalogVersion(cat),
		name: "haimen-planmap.kml", contentType: mediaKML,
		build: filecache.WriterBuilder(s.store.WriteAllKML),
	})
}
