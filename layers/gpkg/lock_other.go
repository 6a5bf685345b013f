//go:build !linux

package gpkg

import "planmap/layers"

// lockDatabase is only implemented on Linux, where open-file-description
// locks let it see SQLite's locks (lock_linux.go).
func lockDatabase(path string) (unlock func(), err error) {
	return nil, layers.Errorf(layers.ECONFLICT, "restore is only supported on Linux, where planmap can tell whether %s is in use", path)
}
