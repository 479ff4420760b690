package shmtensor

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/shmtensor/shmtensor/internal/sys"
	"github.com/shmtensor/shmtensor/internal/units"
)

// This file turns the raw errors of internal/sys into the package's
// sentinels, once, on the way out; the system error stays in the chain for
// errors.Is.

// mapErrno explains the errors of opening the name n.
func mapErrno(err error, n segName) error {
	switch {
	case errors.Is(err, sys.ENOENT):
		return ErrNotExist
	case errors.Is(err, sys.EEXIST):
		return ErrExist
	case errors.Is(err, sys.ELOOP):
		return fmt.Errorf("%w: is a symbolic link (not followed)", ErrNotTensor)
	case errors.Is(err, sys.ENXIO):
		// open(2) gives ENXIO for a Unix socket, and for an O_NONBLOCK
		// open of a FIFO with no reader, for writing: say which it is.
		if n.shm && !sys.ShmIsFile { // BSD shm objects have no path to look at
			return fmt.Errorf("%w: not a regular file (%v)", ErrNotTensor, err)
		}
		if st, err := sys.Lstat(pathOf(n)); err == nil {
			return fmt.Errorf("%w: %s", ErrNotTensor, fileKind(st.Kind))
		}
		return fmt.Errorf("%w: a FIFO or a socket", ErrNotTensor)
	case errors.Is(err, sys.EISDIR):
		return fmt.Errorf("%w: is a directory", ErrNotTensor)
	case errors.Is(err, sys.EACCES), errors.Is(err, sys.EPERM):
		return permissionError(err)
	}
	return err
}

// createErrno explains the errors of making a new segment.
func createErrno(err error, n segName) error {
	switch {
	case errors.Is(err, sys.EEXIST):
		return takenError(n)
	case errors.Is(err, sys.ENOENT) && !n.shm:
		return noFileError(n)
	case errors.Is(err, sys.ENOENT):
		return fmt.Errorf("shared memory is not available (%s missing?): %w", sys.ShmHint, err)
	case errors.Is(err, sys.EACCES), errors.Is(err, sys.EPERM):
		return fmt.Errorf("no permission to create it there: %w", permissionError(err))
	case errors.Is(err, sys.ENOSPC) && n.shm && sys.ShmIsFile:
		return fmt.Errorf("%w: no space or no inode left for a new segment (%s)", err, tmpfsHint(sys.ShmDir, ""))
	case errors.Is(err, sys.ENOSPC):
		return fmt.Errorf("%w: no space or no inode left for a new segment", err)
	}
	return err
}

// noFileError explains ENOENT from making the file of n, which is a missing
// directory only if the directory is missing: procfs and its kin give
// ENOENT for any name they do not hold themselves.
func noFileError(n segName) error {
	dir := filepath.Dir(n.path)
	// The trailing slash follows a symbolic link, as the path's own
	// resolution did (/proc/self is one).
	if st, err := sys.Lstat(dir + "/"); err == nil && st.Kind == sys.Dir {
		what := "its filesystem does not hold files"
		if fsName, ok := sys.PseudoFS(dir); ok {
			what = "not a directory that holds files: " + fsName
		}
		// Not fs.ErrNotExist: nothing is missing, the filesystem cannot do it.
		return explain(fmt.Sprintf("cannot create files in %s (%s; the system said ENOENT)", dir, what), ErrNotSupported)
	}
	return fmt.Errorf("directory %s does not exist: %w", dir, fs.ErrNotExist)
}

// takenError is ErrExist, saying what holds the name when it is not a
// regular file (a directory is not "a segment that already exists").
func takenError(n segName) error {
	if !n.shm || sys.ShmIsFile {
		if st, err := sys.Lstat(pathOf(n)); err == nil && st.Kind != sys.Regular {
			return explain("the name is taken: "+strings.TrimPrefix(fileKind(st.Kind), "is "), ErrExist)
		}
	}
	return ErrExist
}

// permissionError matches both ErrPermission and the system's errno.
func permissionError(err error) error {
	if name, ok := sys.ErrnoName(err); ok {
		return explain(fmt.Sprintf("permission denied (%s)", name), ErrPermission, err)
	}
	return fmt.Errorf("%w: %w", ErrPermission, err)
}

// fileKind says what a file that is not a regular file is.
func fileKind(k sys.Kind) string {
	switch k {
	case sys.Dir:
		return "is a directory"
	case sys.FIFO:
		return "is a FIFO"
	case sys.Device:
		return "is a device"
	case sys.Socket:
		return "is a socket"
	case sys.Symlink:
		return "is a symbolic link"
	}
	return "is not a regular file"
}

// spaceError says how much was asked, how much the filesystem had free,
// and how to get more.
func spaceError(fd int, size int64) error {
	hint := spaceHint(fd)
	if hint != "" {
		hint = " (" + hint + ")"
	}
	if free, ok := sys.FreeBytes(fd); ok {
		return fmt.Errorf("%w: asked for %s (%d bytes), %s (%d bytes) free%s",
			sys.ENOSPC, units.Bytes(size), size, units.Bytes(free), free, hint)
	}
	return fmt.Errorf("%w: asked for %s (%d bytes)%s", sys.ENOSPC, units.Bytes(size), size, hint)
}

// spaceHint says how to get more room on the filesystem holding fd: a
// tmpfs is as large as its size= option says (Docker gives /dev/shm 64 MiB),
// a disk filesystem as its disk.
func spaceHint(fd int) string {
	m, ok := sys.MountOfFD(fd)
	if !ok || m.Point == "" {
		return ""
	}
	if !sys.OnTmpfs(fd) {
		return fmt.Sprintf("free space on the filesystem mounted at %s, or create the segment on another one", m.Point)
	}
	of := ""
	if total, ok := sys.TotalBytes(fd); ok {
		of = " of " + units.Bytes(total)
	}
	return tmpfsHint(m.Point, of)
}

// tmpfsHint says how to make the tmpfs mounted at point larger.
func tmpfsHint(point, of string) string {
	if point == sys.ShmDir {
		return fmt.Sprintf("%s is a tmpfs%s; to get more: docker run --shm-size=SIZE, "+
			"in Kubernetes an emptyDir volume with medium: Memory and a sizeLimit mounted at %s, "+
			"or as root mount -o remount,size=SIZE %s", point, of, point, point)
	}
	return fmt.Sprintf("%s is a tmpfs%s; to get more: as root mount -o remount,size=SIZE %s, "+
		"or in Kubernetes a larger sizeLimit of its emptyDir volume", point, of, point)
}

// cgroupError is the ENOSPC of a reservation past the limit of the memory
// cgroup level l, which has room bytes left.
func cgroupError(l sys.CgroupLevel, size, room int64) error {
	return fmt.Errorf("%w: asked for %s (%d bytes), but the memory cgroup limit %s (%d bytes, %s/%s) leaves %s (%d bytes): "+
		"shared memory is charged to it, and past it the kernel's OOM killer ends processes instead of failing "+
		"(raise the container's memory limit, e.g. docker run --memory or the pod's resources.limits.memory, or free memory in it)",
		sys.ENOSPC, units.Bytes(size), size, units.Bytes(l.Limit), l.Limit, l.Dir, l.LimitFile, units.Bytes(room), room)
}
