package shmtensor

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// pathOf returns the path of n: for a shm name the object's path (on the
// BSDs, the shm_open name).
func pathOf(n segName) string {
	if n.shm {
		return sys.ShmPath(n.path)
	}
	return n.path
}

// openNamed opens the existing file or shm object n.
func openNamed(n segName, write bool) (int, error) {
	if n.shm && !sys.ShmIsFile {
		return sys.ShmOpen(n.path, write)
	}
	return sys.Open(pathOf(n), write)
}

// openFile opens n without following a symlink and without blocking on a
// FIFO, and refuses anything that is not a regular file before any I/O.
func openFile(n segName, write bool) (*file, error) {
	fd, err := openNamed(n, write)
	if err != nil {
		err = mapErrno(err, n)
		if write && errors.Is(err, fs.ErrPermission) {
			// Say ReadOnly() would help only when it would.
			if rfd, rerr := openNamed(n, false); rerr == nil {
				sys.Close(rfd)
				err = fmt.Errorf("%w (it can be read: attach with ReadOnly())", err)
			}
		}
		return nil, err
	}
	st, err := sys.Fstat(fd)
	if err != nil {
		sys.Close(fd)
		return nil, err
	}
	// Regular files only. shm_open can return nothing else, and macOS
	// reports no file type for shm objects at all.
	if st.Kind != sys.Regular && !(n.shm && sys.ShmNoFileType && st.Kind == sys.Untyped) {
		sys.Close(fd)
		return nil, fmt.Errorf("%w: %s", ErrNotTensor, fileKind(st.Kind))
	}
	return &file{
		fd:      fd,
		name:    n,
		size:    st.Size,
		blocks:  st.Blocks,
		id:      FileID(st.ID),
		perm:    fs.FileMode(st.Perm),
		uid:     st.UID,
		gid:     st.GID,
		modTime: st.ModTime,
	}, nil
}

func (f *file) close() { sys.Close(f.fd) }

// pread reads the file at off; a shm object that read(2) cannot read is
// read through a mapping.
func (f *file) pread(p []byte, off int64) (int, error) {
	if f.name.shm && !sys.ShmIsFile {
		return sys.ShmPread(f.fd, f.size, p, off)
	}
	return sys.Pread(f.fd, p, off)
}

func closeFD(fd int) { sys.Close(fd) }

// fileIdentity returns the device and inode of an open file.
func fileIdentity(fd int) (FileID, error) {
	st, err := sys.Fstat(fd)
	return FileID(st.ID), err
}

// fileSize returns the size of an open file.
func fileSize(fd int) (int64, error) {
	st, err := sys.Fstat(fd)
	return st.Size, err
}

// lstatID returns the identity of the file at path, not following a link.
func lstatID(path string) (FileID, error) {
	st, err := sys.Lstat(path)
	return FileID(st.ID), err
}

// nameTaken reports whether something has n's name.
func nameTaken(n segName) bool {
	if n.shm && !sys.ShmIsFile {
		// A BSD shm object: Create took the name with shm_open(O_EXCL),
		// so a failure after that is never a taken name.
		return false
	}
	_, err := sys.Lstat(pathOf(n))
	return err == nil
}

// listShm returns the names of the files in shared memory that may be
// tensor segments: not the temporary names of a Create.
func listShm() ([]string, error) {
	names, err := sys.ListShm()
	return slices.DeleteFunc(names, func(name string) bool { return strings.HasPrefix(name, tempPrefix) }), err
}
