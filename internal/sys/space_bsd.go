//go:build darwin || freebsd

package sys

import "golang.org/x/sys/unix"

// Allocate fails with ErrNoAllocate: these systems cannot reserve the
// pages of a shm object, and the callers fall back to a free-space check.
func Allocate(fd int, size int64) error { return ErrNoAllocate }

// OnTmpfs reports whether fd is on a tmpfs (FreeBSD's tmpfs(5)); a shm
// object is not on a filesystem at all.
func OnTmpfs(fd int) bool {
	var st unix.Statfs_t
	return ignoringEINTR(func() error { return unix.Fstatfs(fd, &st) }) == nil &&
		unix.ByteSliceToString(st.Fstypename[:]) == "tmpfs"
}
