//go:build darwin || freebsd

package sys

import "golang.org/x/sys/unix"

// Mount is the filesystem holding a file, as fstatfs(2) reports it here:
// these systems have no mountinfo, so Root and Options stay empty and
// SuperOptions too.
type Mount struct {
	Dev          uint64
	Root         string
	Point        string
	Options      string
	FSType       string
	Source       string
	SuperOptions string
}

// MountOfFD returns the mount that holds the open file fd.
func MountOfFD(fd int) (Mount, bool) {
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(fd, &st) }); err != nil {
		return Mount{}, false
	}
	return Mount{
		Point:  unix.ByteSliceToString(st.Mntonname[:]),
		FSType: unix.ByteSliceToString(st.Fstypename[:]),
		Source: unix.ByteSliceToString(st.Mntfromname[:]),
	}, true
}
