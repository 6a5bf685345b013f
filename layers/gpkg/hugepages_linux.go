package gpkg

import "syscall"

// hugePages asks Linux to back mem with transparent huge pages, where the
// system gives them on request (/sys/kernel/mm/transparent_hugepage/enabled
// "madvise" or "always"). SQLite writes into every page slot as the first
// connection opens (configurePageCache): in 4 KB pages that was a page
// fault per page, 60-80 ms of every planmap process's start on this
// machine class, half the CPU of a 1-feature import (BENCHMARKS.md, "Huge
// pages for SQLite's page slots"). The 2 MB pages inside mem (all but its
// unaligned ends: 24 of 26 MB on two cores) take a fault each, about 20 ms
// in all, mostly the kernel zeroing them. Where huge pages are not given,
// nothing changes; where the kernel compacts memory to find them (defrag
// "madvise", the default), a fragmented host may make a start slower
// rather than faster.
func hugePages(mem []byte) {
	_ = syscall.Madvise(mem, syscall.MADV_HUGEPAGE)
}
