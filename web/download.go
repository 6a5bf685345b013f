package web

import (
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"
	"strings"

	"planmap/layers"
	"planmap/web/filecache"
)

// DefaultDownloadBudget is the byte budget of the download cache when
// Options give none.
const DefaultDownloadBudget = 512 << 20

// download is one downloadable file: a resource (a layer's GeoPackage,
// say) at one version of the data, and how to build it.
type download struct {
	resource    string // names the file, whatever its version
	version     string // changes whenever the data in the file would
	name        string // the file name a browser saves it as
	contentType string
	build       filecache.Builder
}

// sendDownload serves a download from the cache, building it once per
// version of the data. http.ServeContent answers HEAD with the length
// without sending the body, byte ranges (Range, If-Range) against the
// file's strong ETag, and revalidations (If-None-Match), which is what
// GDAL's /vsicurl/ and QGIS's HTTP sources need to read a GeoPackage in
// place. The compression middleware leaves downloads alone (isDownload):
// a range is of the file's own bytes.
func (s *server) sendDownload(w http.ResponseWriter, r *http.Request, d download) error {
	c, err := s.downloads()
	if err != nil {
		return err
	}
	f, err := c.Get(r.Context(), d.resource, d.version, d.build)
	if errors.Is(err, filecache.ErrTooLarge) {
		return &layers.Error{Code: codeUnavailable, Message: d.name + " is larger than the download cache allows; the server's operator can raise --download-cache-mb"}
	}
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Content-Type", d.contentType)
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, d.name))
	h.Set("ETag", f.ETag)
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, d.name, f.ModTime, f)
	return nil
}

// layerDownload serves a layer of the request's collection as a file of
// the given extension, built by build once per version of the layer.
func (s *server) layerDownload(w http.ResponseWriter, r *http.Request, ext, contentType string, build func(id string) filecache.Builder) error {
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	col, err := s.lookup(r)
	if err != nil {
		return err
	}
	return s.sendDownload(w, r, download{
		resource: ext + "/" + col.ID, version: col.Version,
		name: "haimen-" + col.ID + "." + ext, contentType: contentType,
		build: build(col.ID),
	})
}

// allDownload serves every layer as one file, built by build once per
// version of the catalog.
func (s *server) allDownload(w http.ResponseWriter, r *http.Request, ext, contentType string, build filecache.Builder) error {
	if err := checkParams(r.URL.Query()); err != nil {
		return err
	}
	cat, err := s.catalog(r)
	if err != nil {
		return err
	}
	return s.sendDownload(w, r, download{
		resource: ext, version: catalogVersion(cat),
		name: "haimen-planmap." + ext, contentType: contentType, build: build,
	})
}

// downloads returns the download cache: the one in Options, else one of
// this router's own in the OS's temporary folder, made at the first
// download.
func (s *server) downloads() (*filecache.Cache, error) {
	s.downloadsOnce.Do(func() {
		if s.opt.Downloads != nil {
			s.downloadsCache = s.opt.Downloads
			return
		}
		dir, err := os.MkdirTemp("", "planmap-downloads-")
		if err != nil {
			s.downloadsErr = err
			return
		}
		s.downloadsCache, s.downloadsErr = filecache.Open(dir, DefaultDownloadBudget)
	})
	return s.downloadsCache, s.downloadsErr
}

// catalogVersion identifies the state of every layer together.
func catalogVersion(cat *layers.Catalog) string {
	h := fnv.New64a()
	for _, col := range cat.Collections {
		h.Write([]byte(col.ID + "\x00" + col.Version + "\x00"))
	}
	return fmt.Sprintf("%d-%x", len(cat.Collections), h.Sum64())
}

// isDownload reports whether path is a download, which is never
// compressed: its byte ranges are of the file itself.
func isDownload(path string) bool {
	return strings.HasPrefix(path, "/download/") ||
		strings.HasPrefix(path, "/collections/") && strings.Contains(path[strings.LastIndexByte(path, '/')+1:], "download.")
}

// skipDownloads applies compress to everything but downloads and the
// change stream, whose events must leave as they are written, not when a
// compressor's buffer fills.
func skipDownloads(compress func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		c := compress(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isDownload(r.URL.Path) || r.URL.Path == "/changes/stream" {
				next.ServeHTTP(w, r)
				return
			}
			c.ServeHTTP(w, r)
		})
	}
}
