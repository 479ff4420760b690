//go:build linux || darwin || freebsd

package shmtensor

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/units"
)

// maxPath is PATH_MAX: the longest file:// path, with its NUL.
const maxPath = unix.PathMax

// openFile opens n without following a symlink and without blocking on a
// FIFO, and refuses anything that is not a regular file before any I/O.
func openFile(n segName, write bool) (*file, error) {
	flags := unix.O_RDONLY
	if write {
		flags = unix.O_RDWR
	}
	fd, err := openNamed(n, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return nil, mapErrno(err, n)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, err
	}
	// Regular files only. shm_open can return nothing else, and macOS
	// reports no file type for shm objects at all.
	if ft := uint32(st.Mode) & unix.S_IFMT; ft != unix.S_IFREG && !(n.shm && shmNoFileType && ft == 0) {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s", ErrNotTensor, fileKind(uint32(st.Mode)))
	}
	return &file{
		fd:      fd,
		name:    n,
		size:    st.Size,
		id:      FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)},
		perm:    fs.FileMode(st.Mode & 0o777),
		uid:     st.Uid,
		gid:     st.Gid,
		modTime: time.Unix(st.Mtim.Unix()),
	}, nil
}

func (f *file) close() { unix.Close(f.fd) }

func closeFD(fd int) { unix.Close(fd) }

// fileIdentity returns the device and inode of an open file.
func fileIdentity(fd int) (FileID, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return FileID{}, err
	}
	return FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, nil
}

func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "is a directory"
	case unix.S_IFIFO:
		return "is a FIFO"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "is a device"
	case unix.S_IFSOCK:
		return "is a socket"
	case unix.S_IFLNK:
		return "is a symbolic link"
	}
	return "is not a regular file"
}

func fileSize(fd int) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	return st.Size, nil
}

func mapFile(fd int, size int64, write bool) ([]byte, error) {
	prot := unix.PROT_READ
	if write {
		prot |= unix.PROT_WRITE
	}
	return unix.Mmap(fd, 0, int(size), prot, unix.MAP_SHARED)
}

func unmap(mem []byte) error       { return unix.Munmap(mem) }
func protectRead(mem []byte) error { return unix.Mprotect(mem, unix.PROT_READ) }
func mlock(mem []byte) error       { return unix.Mlock(mem) }
func munlock(mem []byte) error     { return unix.Munlock(mem) }

func msync(mem []byte, flags SyncFlags) error {
	var f int
	if flags&MSAsync != 0 {
		f |= unix.MS_ASYNC
	}
	if flags&MSSync != 0 {
		f |= unix.MS_SYNC
	}
	if flags&MSInvalidate != 0 {
		f |= unix.MS_INVALIDATE
	}
	return unix.Msync(mem, f)
}

// createErrno explains the errors of making a new segment.
func createErrno(err error, n segName) error {
	switch {
	case errors.Is(err, syscall.EEXIST):
		return ErrExist
	case errors.Is(err, syscall.ENOENT) && !n.shm:
		return fmt.Errorf("directory %s does not exist: %w", filepath.Dir(n.path), fs.ErrNotExist)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("shared memory is not available (%s missing?): %w", shmDirHint, err)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w: no permission to create it there", err)
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w: no space for a new segment", err)
	}
	return err
}

// mapErrno turns the errors of opening a name into the package's sentinels,
// keeping the system error for errors.Is.
func mapErrno(err error, n segName) error {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return ErrNotExist
	case errors.Is(err, syscall.EEXIST):
		return ErrExist
	case errors.Is(err, syscall.ELOOP):
		return fmt.Errorf("%w: is a symbolic link (not followed)", ErrNotTensor)
	case errors.Is(err, syscall.ENXIO):
		// O_NONBLOCK open of a FIFO with no reader, for writing.
		return fmt.Errorf("%w: is a FIFO", ErrNotTensor)
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("%w: is a directory", ErrNotTensor)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("%w (attach with ReadOnly() if only reading is allowed)", err)
	}
	return err
}

// reserve sizes the new object. Without lazy it allocates every page
// (fallocate), turning a later SIGBUS into an ENOSPC now; with lazy it only
// checks that the size fits in the free space and sets the length.
func reserve(fd int, size int64, lazy bool) error {
	if !lazy {
		err := allocate(fd, size)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.ENOSPC) && !errors.Is(err, errNoAllocate) {
			return fmt.Errorf("reserve %d bytes: %w", size, err)
		}
		if errors.Is(err, syscall.ENOSPC) {
			return spaceError(fd, size)
		}
		// The filesystem cannot preallocate: fall back to the free-space
		// check, the best that can be done there.
	}
	if free, ok := freeBytes(fd); ok && free < size {
		return spaceError(fd, size)
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			return spaceError(fd, size)
		}
		return fmt.Errorf("set size to %d bytes: %w", size, err)
	}
	return nil
}

// spaceError says how much was asked and how much the filesystem had free.
func spaceError(fd int, size int64) error {
	if free, ok := freeBytes(fd); ok {
		return fmt.Errorf("%w: asked for %s (%d bytes), %s (%d bytes) free",
			syscall.ENOSPC, units.Bytes(size), size, units.Bytes(free), free)
	}
	return fmt.Errorf("%w: asked for %s (%d bytes)", syscall.ENOSPC, units.Bytes(size), size)
}

// freeBytes returns the bytes available to unprivileged users on the
// filesystem holding fd.
func freeBytes(fd int) (int64, bool) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}

// errNoAllocate reports a filesystem that cannot preallocate pages.
var errNoAllocate = errors.New("preallocation not supported")

// unlinkPath removes path if it still refers to the file that was
// validated (f), so a file swapped in meanwhile is not removed.
func unlinkPath(path string, f *file) error {
	var now unix.Stat_t
	if err := unix.Lstat(path, &now); err != nil {
		return mapErrno(err, f.name)
	}
	if (FileID{Dev: uint64(now.Dev), Ino: uint64(now.Ino)}) != f.id {
		return errors.New("the name was replaced while being deleted; nothing removed")
	}
	return mapErrno(unix.Unlink(path), f.name)
}

// tempCreator makes a segment under a temporary name in the target
// directory and links it into place when complete: link(2) is atomic and
// fails if the name exists, so it is both exclusive and never exposes a
// half-written header. A creator killed in between leaves only the
// temporary name, which Attach and List never look at.
type tempCreator struct {
	fd         int
	tmp, final string
}

func newTempCreator(final string, mode uint32) (*tempCreator, error) {
	dir, base := filepath.Split(final)
	var b [8]byte
	rand.Read(b[:])
	tmp := filepath.Join(dir, fmt.Sprintf("%s%s-%x.tmp", tempPrefix, base, b))
	fd, err := unix.Open(tmp, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		unix.Close(fd)
		unix.Unlink(tmp)
		return nil, err
	}
	return &tempCreator{fd: fd, tmp: tmp, final: final}, nil
}

func (c *tempCreator) descriptor() int { return c.fd }

func (c *tempCreator) publish() error {
	err := unix.Link(c.tmp, c.final)
	unix.Unlink(c.tmp)
	return err
}

func (c *tempCreator) abort() {
	unix.Close(c.fd)
	unix.Unlink(c.tmp)
}

func (c *tempCreator) close() { unix.Close(c.fd) }
