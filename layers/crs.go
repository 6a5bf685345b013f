package layers

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"planmap/geo"
)

// SupportedCRSs says, in refusals, which CRSs input may be in.
const SupportedCRSs = "planmap takes CRS84, EPSG:4326 and EPSG:4490 as they are, and reprojects EPSG:3857 and the CGCS2000 3-degree Gauss–Krüger zones EPSG:4513–4554"

// SourceCRS returns the function that turns a geometry of input data in
// the CRS with EPSG code epsg into longitude/latitude degrees. It is the
// one place that decides which input CRSs planmap takes, for every format:
// GeoJSON's crs member, a shapefile's .prj, a GeoPackage's srs_id. Any
// other CRS is an EINVALID error naming it.
//
// EPSG:4326 and CGCS2000 (EPSG:4490, within centimetres of WGS 84 at this
// scale) are taken as they are; Web Mercator and the CGCS2000 3-degree
// Gauss–Krüger zones (EPSG:4513–4554) are reprojected. Projected positions
// are easting, northing, as GIS software stores them, whatever axis order
// the EPSG definition gives. The function's error says what is wrong with
// a position that cannot be in the CRS, such as an easting without the
// zone number its code requires: data labelled with the wrong zone.
func SourceCRS(epsg int) (func(orb.Geometry) (orb.Geometry, error), error) {
	switch {
	case epsg == 4326 || epsg == 4490:
		return func(g orb.Geometry) (orb.Geometry, error) { return g, nil }, nil
	case epsg == 3857 || epsg == 900913:
		return func(g orb.Geometry) (orb.Geometry, error) { return geo.FromWebMercator(g), nil }, nil
	}
	tm := geo.CGCS2000GaussKruger(epsg)
	if tm == nil {
		return nil, Errorf(EINVALID, "EPSG:%d is not supported: %s", epsg, SupportedCRSs)
	}
	return func(g orb.Geometry) (orb.Geometry, error) {
		var bad error
		out := geo.Transform(g, func(p orb.Point) orb.Point {
			if bad == nil {
				bad = inGaussKrugerZone(epsg, p)
			}
			return tm.Inverse(p)
		})
		if bad != nil {
			return nil, bad
		}
		return out, nil
	}, nil
}

// inGaussKrugerZone checks that p can be a position in the CGCS2000
// 3-degree Gauss–Krüger CRS epsg: a northern-hemisphere northing and an
// easting within 500 km of the central meridian, with the zone number in
// front for EPSG:4513–4533. It names the likely right CRS when not.
func inGaussKrugerZone(epsg int, p orb.Point) error {
	e, n := p[0], p[1]
	zone := 0 // the zone number the easting must carry
	if epsg <= 4533 {
		zone = epsg - 4513 + 25
	}
	lo := float64(zone) * 1e6
	switch {
	case math.Abs(e) <= 180 && math.Abs(n) <= 90:
		return fmt.Errorf("position (%g, %g) looks like longitude/latitude, not an easting and northing in metres of EPSG:%d", e, n, epsg)
	case zone > 0 && e >= 0 && e < 1e6:
		return fmt.Errorf("easting %.1f has no zone number, but EPSG:%d puts zone %d in front (%d…): the data may be in EPSG:%d, the same zone without the number", e, epsg, zone, zone, epsg+21)
	case zone == 0 && e >= 25e6 && e < 46e6:
		z := int(e / 1e6)
		return fmt.Errorf("easting %.1f starts with a zone number, %d, which EPSG:%d has not: the data may be in EPSG:%d, zone %d with the number", e, z, epsg, 4513+z-25, z)
	case e < lo || e >= lo+1e6 || n < 0 || n >= 1e7 || math.IsNaN(e) || math.IsNaN(n):
		return fmt.Errorf("position (%.1f, %.1f) is outside EPSG:%d (eastings %.0f–%.0f m, northings 0–10 000 000 m)", e, n, epsg, lo, lo+1e6)
	}
	return nil
}

// lonLatNames are the names of CRS84, longitude/latitude on WGS 84.
var lonLatNames = map[string]bool{
	"urn:ogc:def:crs:OGC:1.3:CRS84":                true,
	"urn:ogc:def:crs:OGC::CRS84":                   true,
	"http://www.opengis.net/def/crs/OGC/1.3/CRS84": true,
	"CRS84":     true,
	"OGC:CRS84": true,
}

// epsgNameRE matches the ways GeoJSON files name an EPSG CRS: EPSG:4549,
// urn:ogc:def:crs:EPSG::4549 (also with a version), and the OGC URL.
var epsgNameRE = regexp.MustCompile(`^(?:EPSG:|urn:ogc:def:crs:EPSG:[0-9.]*:|https?://www\.opengis\.net/def/crs/EPSG/[0-9.]+/)([0-9]{1,6})$`)

// epsgCode returns the EPSG code a CRS name stands for, 4326 for CRS84.
func epsgCode(name string) (int, bool) {
	if lonLatNames[name] {
		return 4326, true
	}
	m := epsgNameRE.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	code, err := strconv.Atoi(m[1])
	return code, err == nil
}

// esriGKRE matches the names ESRI WKT (a shapefile's .prj) and EPSG give
// the CGCS2000 3-degree Gauss–Krüger CRSs, once normalised by esriKey:
// CGCS2000_3_Degree_GK_Zone_40 and CGCS2000_3_Degree_GK_CM_120E, or
// "CGCS2000 / 3-degree Gauss-Kruger zone 40" and "… CM 120E".
var esriGKRE = regexp.MustCompile(`^cgcs2000_3_degree_(?:gk|gauss_kruger)_(zone_([0-9]+)|cm_([0-9]+)e)$`)

// esriNames are the other names of CRSs SourceCRS takes, normalised.
var esriNames = map[string]int{
	"gcs_wgs_1984": 4326, "wgs_84": 4326, "wgs_1984": 4326,
	"gcs_china_geodetic_coordinate_system_2000": 4490, "china_geodetic_coordinate_system_2000": 4490, "cgcs2000": 4490,
	"wgs_1984_web_mercator_auxiliary_sphere": 3857, "wgs_84_pseudo_mercator": 3857, "wgs_1984_web_mercator": 3857,
}

// esriKey lower-cases a name and turns every run of other characters than
// a–z and 0–9 into one _, dropping them at the ends: a CRS name's key in
// esriNames, and a layer id made from a file name.
func esriKey(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			under = false
			continue
		}
		under = true
	}
	return b.String()
}

var (
	wktNameRE = regexp.MustCompile(`^(PROJCS|GEOGCS)\s*\[\s*"([^"]*)"`)
	// The top-level AUTHORITY is the last one, just before the closing ].
	wktAuthorityRE = regexp.MustCompile(`AUTHORITY\s*\[\s*"EPSG"\s*,\s*"?([0-9]+)"?\s*\]\s*\]\s*$`)
)

// epsgFromWKT finds the EPSG code of a CRS from its WKT 1, as in a
// shapefile's .prj: an EPSG AUTHORITY of the top-level CRS when there is
// one, else its name. ESRI WKT has no codes, so the name is what there is.
// It returns the name it read, for messages.
func epsgFromWKT(wkt string) (code int, name string, ok bool) {
	wkt = strings.TrimSpace(strings.TrimPrefix(wkt, "\ufeff"))
	m := wktNameRE.FindStringSubmatch(wkt)
	if m == nil {
		return 0, "", false
	}
	name = m[2]
	if a := wktAuthorityRE.FindStringSubmatch(wkt); a != nil {
		if c, err := strconv.Atoi(a[1]); err == nil {
			return c, name, true
		}
	}
	key := esriKey(name)
	if c, ok := esriNames[key]; ok {
		return c, name, true
	}
	if g := esriGKRE.FindStringSubmatch(key); g != nil {
		if g[2] != "" {
			zone, _ := strconv.Atoi(g[2])
			if zone >= 25 && zone <= 45 {
				return 4513 + zone - 25, name, true
			}
		} else if cm, _ := strconv.Atoi(g[3]); cm >= 75 && cm <= 135 && cm%3 == 0 {
			return 4534 + (cm-75)/3, name, true
		}
	}
	return 0, name, false
}

// crsFromWKT returns the transform for a CRS given as WKT, as SourceCRS
// does for a code; a CRS it does not know is refused by name.
func crsFromWKT(wkt string) (func(orb.Geometry) (orb.Geometry, error), error) {
	code, name, ok := epsgFromWKT(wkt)
	switch {
	case ok:
		return SourceCRS(code)
	case name != "":
		return nil, Errorf(EINVALID, "CRS %q is not supported: %s", name, SupportedCRSs)
	}
	return nil, Errorf(EINVALID, "the CRS is not WKT that planmap reads (%.60q…)", wkt)
}
