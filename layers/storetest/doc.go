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
//
// A store that checks direct edits (what another program writes into its
// database: layers.DirectChecks) gives a DirectHarness too, and is held
// to the one rule of direct.go: what fails its layer's checks or the
// planning rules is reported and flagged, and stays flagged across a
// restart until a later change of it passes.
package storetest
