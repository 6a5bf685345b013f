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
	return s.layerDownload(w, r, "kml", mediaKML, func(id string) filecache.Builder {
		return filecache.WriterBuilder(func(ctx context.Context, w io.Writer) error {
			return s.store.WriteKML(ctx, w, id)
		})
	})
}

// downloadAllKML answers /download/planmap.kml: every layer, a Folder
// each.
func (s *server) downloadAllKML(w http.ResponseWriter, r *http.Request) error {
	return s.allDownload(w, r, "kml", mediaKML, filecache.WriterBuilder(s.store.WriteAllKML))
}
