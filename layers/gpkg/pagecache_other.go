//go:build !unix

package gpkg

import "errors"

// configurePageCache: the slots for SQLite's pages (pagecache_unix.go)
// are mapped on Unix only; elsewhere pages come from libc.
func configurePageCache() error {
	return errors.New("SQLite's page slots are configured on Unix only")
}
