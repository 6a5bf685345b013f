package gpkg

import (
	"database/sql/driver"

	"modernc.org/sqlite"

	"planmap/geo"
)

// The GeoPackage R-tree triggers call ST_IsEmpty, ST_MinX, ST_MaxX, ST_MinY
// and ST_MaxY, which SQLite does not have (INTEROP.md §6.8). Registered on
// the driver, they exist on every connection it opens, so any write to a
// feature table keeps its R-tree index right. modernc's SQLite is built
// without SQLITE_TRUSTED_SCHEMA=0, so triggers may call them even though
// the driver offers no way to flag them innocuous.
func init() {
	envelope := func(i int) func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
		return func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			blob, ok := args[0].([]byte)
			if !ok {
				return nil, nil
			}
			b, empty, err := geo.GPKGEnvelope(blob)
			if err != nil || empty {
				return nil, err
			}
			return [4]float64{b.Min[0], b.Max[0], b.Min[1], b.Max[1]}[i], nil
		}
	}
	sqlite.MustRegisterDeterministicScalarFunction("ST_MinX", 1, envelope(0))
	sqlite.MustRegisterDeterministicScalarFunction("ST_MaxX", 1, envelope(1))
	sqlite.MustRegisterDeterministicScalarFunction("ST_MinY", 1, envelope(2))
	sqlite.MustRegisterDeterministicScalarFunction("ST_MaxY", 1, envelope(3))
	sqlite.MustRegisterDeterministicScalarFunction("ST_IsEmpty", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			blob, ok := args[0].([]byte)
			if !ok {
				return nil, nil
			}
			_, empty, err := geo.GPKGEnvelope(blob)
			if err != nil {
				return nil, err
			}
			if empty {
				return int64(1), nil
			}
			return int64(0), nil
		})
}
