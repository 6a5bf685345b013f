package gpkg

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"planmap/layers"

	"golang.org/x/sys/unix"
)

// SQLite's unix locks (os_unix.c): a connection to a WAL database holds a
// read lock on the "DMS" byte of the -shm file for as long as it is open,
// and a read lock on the SHARED range of the database file; a connection
// in a transaction holds one on the database file too. The kernel drops
// these locks when the process ends, even by SIGKILL, so, unlike a pid
// file, they are never stale.
const (
	sqlitePendingByte = 0x40000000 // PENDING, RESERVED, then the 510-byte SHARED range
	sqliteLockBytes   = 512
	sqliteShmDMS      = 120 + 8 // WALINDEX_LOCK_OFFSET + SQLITE_SHM_NLOCK
)

// lockDatabase takes write locks on the bytes SQLite locks in the
// database file at path and in its -shm file. It fails with an ECONFLICT
// error when any connection, in any process, has the database open: a
// running planmap serve (whose readers stay open), import or export. While
// held, the locks keep new connections out. They are open-file-description
// locks, which conflict with SQLite's POSIX locks even within this
// process. unlock releases them.
func lockDatabase(path string) (unlock func(), err error) {
	var held []*os.File
	unlock = func() {
		for _, f := range held {
			f.Close()
		}
	}
	for _, l := range []struct {
		file  string
		start int64
		len   int64
	}{
		{path, sqlitePendingByte, sqliteLockBytes},
		{path + "-shm", sqliteShmDMS, 1},
	} {
		f, err := os.OpenFile(l.file, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			unlock()
			return nil, fmt.Errorf("lock %s: %w", l.file, err)
		}
		held = append(held, f)
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: l.start, Len: l.len}
		if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
			unlock()
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
				return nil, layers.Errorf(layers.ECONFLICT, "%s is in use: a planmap process (serve, import, export or backup) has it open; stop it first", path)
			}
			return nil, fmt.Errorf("lock %s: %w", l.file, err)
		}
	}
	return unlock, nil
}
