// Package geo holds the pure geometry work planmap needs: decoding GeoJSON
// geometries strictly, checking and normalising hand-drawn shapes, and the
// encodings the store and the API write (GeoPackage geometry blobs, GeoJSON).
//
// Everything here works on orb values and does no I/O. Coordinates are
// longitude/latitude in degrees (CRS84) unless a function says otherwise.
package geo
