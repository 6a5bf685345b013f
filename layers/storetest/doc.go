// Package storetest is the contract every store of layers passes: the
// GeoPackage store, a cache in front of any store, a PostGIS store. Each
// runs it from a test of its own with a Harness:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, storetest.Harness{New: func(t *testing.T) (storetest.Store, storetest.Writer) { … }})
//	}
//
// The suite reads only through the Store interface, which is what
// web needs of a store, and writes only through the Writer, as another
// client of the same data would; it imports neither web nor any store.
//
// Everything it checks, it checks against what it wrote: bbox answers
// against a brute-force geometry check of its own (brute.go), on synthetic
// layers of polygons with holes, multipolygons, lines and points (data.go);
// Shapes against Items and the same brute force (shapes.go).
package storetest
