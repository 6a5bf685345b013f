package web

import (
	"fmt"
	"net/http"
)

// mediaKML is KML's registered media type, which Google Earth and other
// KML clients open on download.
const mediaKML = "application/vnd.google-earth.kml+xml"

// downloadKML answers /collections/{id}/download.kml: the layer as one KML
// Document, streamed as it is read.
func (s *server) downloadKML(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", mediaKML)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="haimen-%s.kml"`, col.ID))
	return s.store.WriteKML(r.Context(), w, col.ID)
}

// downloadAllKML answers /download/planmap.kml: every layer, a Folder
// each.
func (s *server) downloadAllKML(w http.ResponseWriter, r *http.Request) error {
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	w.Header().Set("Content-Type", mediaKML)
	w.Header().Set("Content-Disposition", `attachment; filename="haimen-planmap.kml"`)
	return s.store.WriteAllKML(r.Context(), w)
}
