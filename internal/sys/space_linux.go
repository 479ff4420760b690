package sys

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// Allocate allocates the pages of the first size bytes of fd, growing the
// file to size if it is shorter; bytes already written are kept (fallocate
// with mode 0 allocates only the holes). It fails with ErrNoAllocate where
// the filesystem cannot.
func Allocate(fd int, size int64) error {
	if size == 0 {
		return nil
	}
	err := ignoringEINTR(func() error { return unix.Fallocate(fd, 0, 0, size) })
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return ErrNoAllocate
	}
	return err
}

// OnTmpfs reports whether fd is on a tmpfs (statfs f_type TMPFS_MAGIC),
// whose pages are memory, charged to the memory cgroup of the process that
// allocates them.
func OnTmpfs(fd int) bool {
	var st unix.Statfs_t
	return ignoringEINTR(func() error { return unix.Fstatfs(fd, &st) }) == nil && st.Type == unix.TMPFS_MAGIC
}
