// Package layerstest holds helpers for tests that use a real store and real
// GIS tools.
package layerstest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"planmap/geo"
	"planmap/layers/gpkg"
)

// RequireTool returns the path of the named program. When it is missing the
// test is skipped, or fails when PLANMAP_REQUIRE_TOOLS=1 (as in CI), so
// that a missing install step cannot pass unnoticed.
func RequireTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	missing(tb, fmt.Sprintf("%s is required (PLANMAP_REQUIRE_TOOLS=1) but not installed: %v", name, err),
		fmt.Sprintf("%s is not installed (apt-get install gdal-bin); skipping", name))
	return ""
}

// missing fails tb with required when PLANMAP_REQUIRE_TOOLS=1 (as in
// CI), so that a missing install step cannot pass unnoticed, and else
// skips it with skip: what each Require… does when its tool is not there.
func missing(tb testing.TB, required, skip string) {
	tb.Helper()
	if os.Getenv("PLANMAP_REQUIRE_TOOLS") == "1" {
		tb.Fatal(required)
	}
	tb.Skip(skip)
}

// RequireGPKGValidator returns the command that runs GDAL's GeoPackage
// validator: Debian's own python3, which can import GDAL's Python
// bindings where another python3 on PATH may not.
func RequireGPKGValidator(tb testing.TB) []string {
	tb.Helper()
	const py = "/usr/bin/python3"
	cmd := []string{py, "-m", "osgeo_utils.samples.validate_gpkg"}
	if err := exec.Command(py, "-c", "import osgeo_utils.samples.validate_gpkg").Run(); err == nil {
		return cmd
	}
	missing(tb, "GDAL's validate_gpkg is required (PLANMAP_REQUIRE_TOOLS=1) but "+py+" cannot import it (apt-get install python3-gdal)",
		"GDAL's validate_gpkg is not available to "+py+"; skipping")
	return nil
}

// RequireQGIS skips the test, or fails it when PLANMAP_REQUIRE_TOOLS=1,
// when Debian's python3 cannot import QGIS's Python bindings.
func RequireQGIS(tb testing.TB) {
	tb.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import qgis.core").Run(); err == nil {
		return
	}
	missing(tb, "QGIS is required (PLANMAP_REQUIRE_TOOLS=1) but /usr/bin/python3 cannot import qgis.core (apt-get install --no-install-recommends qgis python3-qgis)",
		"QGIS is not installed (apt-get install --no-install-recommends qgis python3-qgis); skipping")
}

// RunQGIS runs the QGIS Python script with args, headless (offscreen Qt,
// a runtime folder of its own), and returns what it printed on standard
// output and on standard error (where QGIS and GDAL warn); a script that
// fails fails the test with both.
func RunQGIS(tb testing.TB, script string, args ...string) (stdout, stderr []byte) {
	tb.Helper()
	cmd := exec.Command("/usr/bin/python3", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), "QT_QPA_PLATFORM=offscreen", "XDG_RUNTIME_DIR="+tb.TempDir())
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	if err := cmd.Run(); err != nil {
		tb.Fatalf("QGIS %s %v: %v\n%s\n%s", script, args, err, out.String(), errs.String())
	}
	return out.Bytes(), errs.Bytes()
}

// RemoveStore closes s and removes its folder dir, either of them if
// there is one: what a benchmarks' shared store leaves behind, for a
// TestMain to call when the tests are done (b.TempDir lasts one
// benchmark only).
func RemoveStore(s *gpkg.Store, dir string) {
	if s != nil {
		s.Close()
	}
	if dir != "" {
		os.RemoveAll(dir)
	}
}

// MustOpen opens a new store in a temporary folder and closes it when the
// test ends.
func MustOpen(tb testing.TB) *gpkg.Store {
	tb.Helper()
	s, err := gpkg.Open(context.Background(), filepath.Join(tb.TempDir(), "planmap.gpkg"))
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// OGRLayer is what ogrinfo -al says of one layer of a file: its name,
// its feature count, and each feature's fields as text.
type OGRLayer struct {
	Name     string
	Count    int
	Features []map[string]string
}

var ogrField = regexp.MustCompile(`^  (\S+) \([^)]*\) = (.*)$`)

// OGRInfo reads path with ogrinfo -ro -al (the path of ogrinfo as
// RequireTool returns it) and returns its layers in the order GDAL lists
// them. GDAL's errors and warnings fail the test.
func OGRInfo(tb testing.TB, ogrinfo, path string) []OGRLayer {
	tb.Helper()
	cmd := exec.Command(ogrinfo, "-ro", "-al", path)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		tb.Fatalf("ogrinfo -ro -al %s: %v\n%s", path, err, e.String())
	}
	if s := e.String(); strings.Contains(s, "ERROR") || strings.Contains(s, "Warning") {
		tb.Errorf("ogrinfo -ro -al %s: %s", path, s)
	}
	var out []OGRLayer
	var feature map[string]string
	for _, line := range strings.Split(o.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "Layer name: "):
			out = append(out, OGRLayer{Name: strings.TrimPrefix(line, "Layer name: ")})
			feature = nil
		case len(out) == 0:
		case strings.HasPrefix(line, "Feature Count: "):
			out[len(out)-1].Count, _ = strconv.Atoi(strings.TrimPrefix(line, "Feature Count: "))
		case strings.HasPrefix(line, "OGRFeature("):
			feature = map[string]string{}
			l := &out[len(out)-1]
			l.Features = append(l.Features, feature)
		case feature != nil:
			if m := ogrField.FindStringSubmatch(line); m != nil {
				feature[m[1]] = m[2]
			}
		}
	}
	return out
}

// OtherClient writes into the planmap database at path from outside the
// store under test, as another process would: imports through a store of
// its own, deletes in plain SQL (as GDAL or QGIS make them). It is the
// storetest.Writer of the GeoPackage store and of a cache in front of it.
type OtherClient struct {
	*gpkg.Store
	db *sql.DB
}

// OpenOtherClient opens an OtherClient on path, closed when the test ends.
func OpenOtherClient(tb testing.TB, path string) *OtherClient {
	tb.Helper()
	s, err := gpkg.Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open a second store on %s: %v", path, err)
	}
	tb.Cleanup(func() { s.Close() })
	// As a URI, escaped: a subtest's temporary folder may hold a # or ?.
	u := url.URL{Scheme: "file", Path: path}
	db, err := sql.Open("sqlite", "file:"+u.EscapedPath()+"?_pragma=busy_timeout(10000)")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return &OtherClient{Store: s, db: db}
}

// Delete removes the features fids of layer id in one transaction.
func (c *OtherClient) Delete(ctx context.Context, id string, fids ...int64) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	q := `DELETE FROM "` + strings.ReplaceAll(id, `"`, `""`) + `" WHERE fid = ?`
	for _, fid := range fids {
		if _, err := tx.ExecContext(ctx, q, fid); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// SetGeometry sets the geometry of feature fid of layer id, as another
// program writing a GeoPackage geometry blob would.
func (c *OtherClient) SetGeometry(ctx context.Context, id string, fid int64, g orb.Geometry) error {
	blob, err := geo.AppendGPKG(nil, g, gpkg.SRSID)
	if err != nil {
		return err
	}
	_, err = c.db.ExecContext(ctx, `UPDATE "`+strings.ReplaceAll(id, `"`, `""`)+`" SET geom = ? WHERE fid = ?`, blob, fid)
	return err
}

// Strings runs a query on the file and returns the first column of each
// row as text.
func (c *OtherClient) Strings(ctx context.Context, query string) ([]string, error) {
	rows, err := c.db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Exec runs one statement of plain SQL on the file in its own
// transaction, as another program editing the GeoPackage would: not
// through planmap, so the history records it as a direct edit.
func (c *OtherClient) Exec(ctx context.Context, query string, args ...any) error {
	_, err := c.db.ExecContext(ctx, query, args...)
	return err
}
