//go:build linux || darwin || freebsd

package shmtensor

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
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
	const common = unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC
	fd, err := ignoringEINTR2(func() (int, error) { return openNamed(n, flags|common) })
	if err != nil {
		err = mapErrno(err, n)
		if write && errors.Is(err, fs.ErrPermission) {
			// Say ReadOnly() would help only when it would.
			if rfd, rerr := ignoringEINTR2(func() (int, error) { return openNamed(n, unix.O_RDONLY|common) }); rerr == nil {
				unix.Close(rfd)
				err = fmt.Errorf("%w (it can be read: attach with ReadOnly())", err)
			}
		}
		return nil, err
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
		blocks:  int64(st.Blocks),
		id:      FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)},
		perm:    fs.FileMode(st.Mode & 0o777),
		uid:     st.Uid,
		gid:     st.Gid,
		modTime: time.Unix(st.Mtim.Unix()),
	}, nil
}

// ignoringEINTR calls fn until it returns anything but EINTR: a signal
// arriving during a slow system call (fallocate of a large segment, open on
// a network filesystem) must not fail the operation.
func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// ignoringEINTR2 is ignoringEINTR for calls that also return a value.
func ignoringEINTR2[T any](fn func() (T, error)) (T, error) {
	for {
		v, err := fn()
		if err != unix.EINTR {
			return v, err
		}
	}
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

// mapShared maps the file shared, with extra flags added to MAP_SHARED,
// and counts the mapping against vm.max_map_count (see checkMapLimit);
// unmap uncounts it. Every segment mapping is made here.
func mapShared(fd int, size int64, write bool, flags int) ([]byte, error) {
	prot := unix.PROT_READ
	if write {
		prot |= unix.PROT_WRITE
	}
	if err := checkMapLimit(); err != nil {
		return nil, err
	}
	mem, err := unix.Mmap(fd, 0, int(size), prot, unix.MAP_SHARED|flags)
	if err == nil {
		liveMappings.Add(1)
	}
	return mem, err
}

func unmap(mem []byte) error {
	err := unix.Munmap(mem)
	if err == nil {
		liveMappings.Add(-1)
	}
	return err
}

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
		return takenError(n)
	case errors.Is(err, syscall.ENOENT) && !n.shm:
		return fmt.Errorf("directory %s does not exist: %w", filepath.Dir(n.path), fs.ErrNotExist)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("shared memory is not available (%s missing?): %w", shmDirHint, err)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return fmt.Errorf("no permission to create it there: %w", permissionError(err))
	case errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w: no space for a new segment", err)
	}
	return err
}

// takenError is ErrExist, saying what holds the name when it is not a
// regular file (a directory is not "a segment that already exists").
func takenError(n segName) error {
	var st unix.Stat_t
	if p := pathOf(n); (!n.shm || p != n.path) && unix.Lstat(p, &st) == nil {
		if ft := uint32(st.Mode) & unix.S_IFMT; ft != unix.S_IFREG {
			return explain("the name is taken: "+strings.TrimPrefix(fileKind(uint32(st.Mode)), "is "), ErrExist)
		}
	}
	return ErrExist
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
		// open(2) gives ENXIO for a Unix socket, and for an O_NONBLOCK
		// open of a FIFO with no reader, for writing: say which it is.
		var st unix.Stat_t
		if n.shm && pathOf(n) == n.path { // BSD shm objects have no path to look at
			return fmt.Errorf("%w: not a regular file (%v)", ErrNotTensor, err)
		}
		if unix.Lstat(pathOf(n), &st) == nil {
			return fmt.Errorf("%w: %s", ErrNotTensor, fileKind(uint32(st.Mode)))
		}
		return fmt.Errorf("%w: a FIFO or a socket", ErrNotTensor)
	case errors.Is(err, syscall.EISDIR):
		return fmt.Errorf("%w: is a directory", ErrNotTensor)
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return permissionError(err)
	}
	return err
}

// permissionError matches both ErrPermission and the system's errno.
func permissionError(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return explain(fmt.Sprintf("permission denied (%s)", unix.ErrnoName(errno)), ErrPermission, err)
	}
	return fmt.Errorf("%w: %w", ErrPermission, err)
}

// reserve sizes the new object. Without lazy it allocates every page
// (fallocate), turning a later SIGBUS into an ENOSPC now; with lazy it only
// checks that the size fits in the free space and sets the length.
func reserve(fd int, size int64, lazy bool) error {
	if !lazy {
		err := ignoringEINTR(func() error { return allocate(fd, size) })
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
	if err := ignoringEINTR(func() error { return unix.Ftruncate(fd, size) }); err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			return spaceError(fd, size)
		}
		return fmt.Errorf("set size to %d bytes: %w", size, err)
	}
	return nil
}

// reserveExisting allocates the pages of an existing segment of size
// bytes. fallocate with mode 0 allocates only the holes and keeps every
// byte already written.
func reserveExisting(fd int, size int64) error {
	err := ignoringEINTR(func() error { return allocate(fd, size) })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOSPC):
		return spaceError(fd, size)
	case errors.Is(err, errNoAllocate):
		return fmt.Errorf("%w: the filesystem cannot reserve pages (fallocate)", ErrNotSupported)
	case errors.Is(err, syscall.EBADF):
		return fmt.Errorf("reserve needs the segment open for writing: %w", err)
	}
	return fmt.Errorf("reserve %d bytes: %w", size, err)
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
// filesystem holding fd. ok is false when the filesystem reports no size at
// all (ramfs, some FUSE filesystems: f_blocks == 0): it has no limit to
// check against, so it is not full.
func freeBytes(fd int) (free int64, ok bool) {
	var st unix.Statfs_t
	if err := ignoringEINTR(func() error { return unix.Fstatfs(fd, &st) }); err != nil {
		return 0, false
	}
	if st.Blocks == 0 {
		return 0, false
	}
	return int64(st.Bavail) * int64(st.Bsize), true
}

// errNoAllocate reports a filesystem that cannot preallocate pages.
var errNoAllocate = errors.New("preallocation not supported")

// errReplaced is what Delete says when the name no longer holds the file it
// validated: what is there now was not checked, so nothing is removed. It
// wraps ErrNotTensor: the file under the name is not (known to be) the
// tensor segment that was asked for; deleting again validates it afresh.
var errReplaced = fmt.Errorf("%w: the name was replaced while being deleted", ErrNotTensor)

// unlinkPath removes path if it refers to the validated file f, so that a
// file swapped in under the name (rename(2), renameat2 RENAME_EXCHANGE) is
// never removed. Checking the name and then unlinking it would leave a
// window between the two in which the name can change. Instead the file is
// first moved to a private name in the same directory, which atomically
// takes whatever the name held at that instant; what was moved is checked
// against f and unlinked, or, if it is not f, put back.
//
// What remains: between checking the private name and unlinking it, a
// process allowed to rename files in the directory that has read the
// random private name from the directory could swap another file in. In a
// sticky directory such as /dev/shm only the file's owner and root can.
func unlinkPath(path string, f *file) error {
	dir, base := filepath.Split(path)
	// The suffix only has to be hard to guess in advance: renaming to it
	// never replaces a file, and math/rand/v2 draws from a per-process
	// ChaCha8 stream without the system call crypto/rand makes.
	aside := filepath.Join(dir, fmt.Sprintf("%s%s-%016x", asidePrefix, base, rand.Uint64()))
	if err := moveAside(path, aside); err != nil {
		if errors.Is(err, syscall.ENAMETOOLONG) {
			// No room for the private name: check and unlink by name.
			return unlinkChecked(path, f)
		}
		return mapErrno(err, f.name)
	}
	if testHookAside != nil {
		testHookAside(path)
	}
	var now unix.Stat_t
	err := unix.Lstat(aside, &now)
	if err == nil && (FileID{Dev: uint64(now.Dev), Ino: uint64(now.Ino)}) == f.id {
		if err := unix.Unlink(aside); err != nil {
			return fmt.Errorf("segment moved to %s to delete it, but: %w", aside, mapErrno(err, f.name))
		}
		return nil
	}
	// Not ours (or gone): put it back unless the name was taken again.
	if err := putBack(aside, path); err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return errReplaced
		}
		return fmt.Errorf("%w; the file found under the name is left at %s, the name being taken again: %v", errReplaced, aside, err)
	}
	return errReplaced
}

// staleTemporary reports whether the file at p is a regular file of the
// caller's (any, for root) last modified more than age before now.
func staleTemporary(p string, age time.Duration, now time.Time) (bool, error) {
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		return false, err
	}
	if uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG {
		return false, nil
	}
	if euid := uint32(unix.Geteuid()); euid != 0 && st.Uid != euid {
		return false, nil
	}
	return now.Sub(time.Unix(st.Mtim.Unix())) > age, nil
}

// effectiveUID returns the user whose ownership Attach checks.
func effectiveUID() (uint32, bool) { return uint32(unix.Geteuid()), true }

// reserveFile allocates the pages of the open file f. A descriptor opened
// read-only cannot fallocate: the file is opened again for writing through
// /proc/self/fd, which reaches the same inode.
func reserveFile(f *file) error {
	err := reserveExisting(f.fd, f.size)
	if !errors.Is(err, syscall.EBADF) {
		return err
	}
	fd, oerr := ignoringEINTR2(func() (int, error) {
		return unix.Open("/proc/self/fd/"+strconv.Itoa(f.fd), unix.O_RDWR|unix.O_CLOEXEC, 0)
	})
	if oerr != nil {
		if errors.Is(oerr, syscall.EACCES) || errors.Is(oerr, syscall.EPERM) {
			return fmt.Errorf("Reserve needs write permission: %w", permissionError(oerr))
		}
		return err
	}
	defer unix.Close(fd)
	return reserveExisting(fd, f.size)
}

// nameTaken reports whether something has n's name.
func nameTaken(n segName) bool {
	p := pathOf(n)
	if n.shm && p == n.path {
		// A BSD shm object: Create took the name with shm_open(O_EXCL),
		// so a failure after that is never a taken name.
		return false
	}
	var st unix.Stat_t
	return unix.Lstat(p, &st) == nil
}

// testHookAside, if set, runs between moving a name aside and checking what
// was moved, so that tests can change the name in that window.
var testHookAside func(path string)

// moveAside renames from to the fresh private name to. RENAME_NOREPLACE
// guards the (random) private name; where the filesystem lacks it, plain
// rename is used, the name being random.
func moveAside(from, to string) error {
	err := ignoringEINTR(func() error { return renameNoReplace(from, to) })
	if errors.Is(err, errNoRenameFlags) {
		err = ignoringEINTR(func() error { return unix.Rename(from, to) })
	}
	return err
}

// putBack renames from to to unless to exists.
func putBack(from, to string) error {
	err := ignoringEINTR(func() error { return renameNoReplace(from, to) })
	if errors.Is(err, errNoRenameFlags) {
		// link(2) fails if to exists; the private name is then dropped.
		if err = unix.Link(from, to); err == nil {
			unix.Unlink(from)
		}
	}
	return err
}

// errNoRenameFlags reports a system or filesystem without RENAME_NOREPLACE.
var errNoRenameFlags = errors.New("rename without replacing not supported")

// unlinkChecked removes path if it still refers to f: the check and the
// unlink are two steps, so a name replaced between them is removed.
func unlinkChecked(path string, f *file) error {
	var now unix.Stat_t
	if err := unix.Lstat(path, &now); err != nil {
		return mapErrno(err, f.name)
	}
	if (FileID{Dev: uint64(now.Dev), Ino: uint64(now.Ino)}) != f.id {
		return errReplaced
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
	tmp := filepath.Join(dir, fmt.Sprintf("%s%s-%016x.tmp", tempPrefix, base, rand.Uint64()))
	fd, err := ignoringEINTR2(func() (int, error) {
		return unix.Open(tmp, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	})
	if err != nil {
		return nil, err
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		unix.Close(fd)
		unix.Unlink(tmp)
		return nil, err
	}
	sweepOnce(dir)
	return &tempCreator{fd: fd, tmp: tmp, final: final}, nil
}

func (c *tempCreator) descriptor() int { return c.fd }

func (c *tempCreator) publish() error {
	// The temporary name stays on failure: an Unpublished segment may
	// still be published or replaced, and abort removes it.
	if err := ignoringEINTR(func() error { return unix.Link(c.tmp, c.final) }); err != nil {
		return err
	}
	unix.Unlink(c.tmp)
	return nil
}

func (c *tempCreator) abort() {
	// Only if the name still holds this file: after a failed Replace it
	// may hold another.
	if id, err := fileIdentity(c.fd); err == nil {
		unlinkID(c.tmp, id)
	}
	unix.Close(c.fd)
}

func (c *tempCreator) close() { unix.Close(c.fd) }
