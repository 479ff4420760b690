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

// PseudoFS reports whether path lies on a kernel filesystem that presents
// kernel state instead of holding files (procfs, devfs, ...), where files
// cannot be made, and names it.
func PseudoFS(path string) (string, bool) {
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Statfs(path, &st) }); err != nil {
		return "", false
	}
	name := unix.ByteSliceToString(st.Fstypename[:])
	switch name {
	case "procfs", "linprocfs", "linsysfs", "devfs", "fdescfs":
		return name, true
	}
	return "", false
}
