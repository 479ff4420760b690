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
	case errors.Is(err, sys.ENOSPC):
		return fmt.Errorf("%w: no space for a new segment", err)
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

// spaceError says how much was asked and how much the filesystem had free.
func spaceError(fd int, size int64) error {
	if free, ok := sys.FreeBytes(fd); ok {
		return fmt.Errorf("%w: asked for %s (%d bytes), %s (%d bytes) free",
			sys.ENOSPC, units.Bytes(size), size, units.Bytes(free), free)
	}
	return fmt.Errorf("%w: asked for %s (%d bytes)", sys.ENOSPC, units.Bytes(size), size)
}
