//go:build darwin || freebsd

package sys

import "golang.org/x/sys/unix"

// Allocate fails with ErrNoAllocate: these systems cannot reserve the
// pages of a shm object, and the callers fall back to a free-space check.
func Allocate(fd int, size int64) error { return ErrNoAllocate }

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
