package gpkg

import "syscall"

// hugePages asks Linux to back mem with transparent huge pages, where the
// system gives them on request (/sys/kernel/mm/transparent_hugepage/enabled
// "madvise" or "always"). SQLite writes into every page slot as the first
// connection opens (configurePageCache): in 4 KB pages that was a page
// fault per page, 60-80 ms of every planmap process's start on this
// machine class, half the CPU of a 1-feature import (BENCHMARKS.md, "Huge
// pages for SQLite's page slots"). In 2 MB pages it is a dozen faults.
// Where they are not given, nothing changes.
func hugePages(mem []byte) {
	_ = syscall.Madvise(mem, syscall.MADV_HUGEPAGE)
}
