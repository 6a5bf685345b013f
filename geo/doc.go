// Package geo holds the pure geometry work planmap needs: decoding GeoJSON
// geometries strictly, checking and normalising hand-drawn shapes, and the
// encodings the store and the API write (GeoPackage geometry blobs, GeoJSON,
// KML).
//
// Everything here works on orb values and does no I/O beyond writing to a
// given io.Writer. Coordinates are longitude/latitude in degrees (CRS84)
// unless a function says otherwise. KML goes through go-geom and go-kml,
// whose types stay in this package: callers hand in orb geometries and
// plain structs.
package geo
