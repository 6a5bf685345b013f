package geo

import (
	"fmt"

	"github.com/paulmach/orb"
)

// ValidatePlanar checks the polygons of mp as Validate checks a
// multipolygon (rings closed, of three distinct positions or more, not
// crossing themselves or each other, holes inside their shell, parts not
// overlapping) in any plane: coordinates are not held to the ranges of
// longitude and latitude. Vector tiles check their rounded shapes with it.
func ValidatePlanar(mp orb.MultiPolygon) error {
	if len(mp) == 0 {
		return ErrEmptyGeometry
	}
	polys := make([]orb.Polygon, len(mp))
	for i, p := range mp {
		if len(p) == 0 {
			return fmt.Errorf("polygon %d: %w", i, ErrEmptyGeometry)
		}
		for j, r := range p {
			if len(r) < 4 || distinct(r) < 3 {
				return fmt.Errorf("polygon %d, ring %d: %w", i, j, ErrRingTooShort)
			}
			if r[0] != r[len(r)-1] {
				return fmt.Errorf("polygon %d, ring %d: %w", i, j, ErrRingNotClosed)
			}
		}
		polys[i] = withoutRepeats(p)
	}
	return checkTopology(polys)
}
