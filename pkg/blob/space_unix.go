//go:build linux || darwin || freebsd

package blob

import (
	"syscall"

	"github.com/nexus-go/nexus-go/pkg/errs"
)

func diskFree(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, errs.Wrap(errs.Internal, err, "reading free space")
	}
	// Bavail, not Bfree: blocks reserved for root are not ours to use.
	return int64(st.Bavail) * int64(st.Bsize), nil
}
