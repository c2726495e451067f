package blob

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing bytes [off, off+n) of f
// to disk without waiting for it, so that the fsync at commit finds most
// of the file already written and waits only for the tail. It is advice:
// an error changes nothing, as the fsync still decides durability.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
