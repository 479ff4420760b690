package shmtensor

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// On Linux, POSIX shared memory is the tmpfs at /dev/shm: shm_open(3) in
// glibc opens /dev/shm/NAME, so a segment there is an ordinary file to every
// system call, and numpy can np.load it by path.
const shmDir = "/dev/shm"

// shmDirHint names where shm objects live, for error messages.
const shmDirHint = shmDir

// shmListDir is the directory List reads and RemoveStale sweeps by default.
const shmListDir = shmDir

// shm objects are tmpfs files here: their size is what ftruncate set and
// fstat reports S_IFREG.
const (
	shmSizeRounded = false
	shmNoFileType  = false
)

// maxShmName is NAME_MAX.
const maxShmName = 255

func pathOf(n segName) string {
	if n.shm {
		return shmDir + "/" + n.path
	}
	return n.path
}

func openNamed(n segName, flags int) (int, error) {
	return unix.Open(pathOf(n), flags, 0)
}

func (f *file) pread(p []byte, off int64) (int, error) {
	return ignoringEINTR2(func() (int, error) { return unix.Pread(f.fd, p, off) })
}

func allocate(fd int, size int64) error {
	if size == 0 {
		return nil
	}
	err := unix.Fallocate(fd, 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return errNoAllocate
	}
	return err
}

// tmpfileCreator builds the segment as an unnamed O_TMPFILE inode in the
// target directory and links it into place when it is complete: the name
// appears with its whole header or not at all, and a creator killed before
// the link leaves nothing behind, not even a temporary name.
type tmpfileCreator struct {
	fd    int
	final string
}

func newCreator(n segName, mode uint32) (creator, error) {
	final := pathOf(n)
	fd, err := openTmpfile(filepath.Dir(final), mode)
	if err != nil {
		// No O_TMPFILE, or one that half works (on some FUSE filesystems
		// open succeeds and fchmod then fails with ENOENT): the hidden
		// temporary name works wherever files can be created, and fails
		// with the real cause where they cannot.
		return newTempCreator(final, mode)
	}
	return &tmpfileCreator{fd: fd, final: final}, nil
}

// openTmpfile opens an unnamed file in dir with exactly mode. It is a
// variable so that tests can make it fail like a filesystem where O_TMPFILE
// half works.
var openTmpfile = func(dir string, mode uint32) (int, error) {
	fd, err := ignoringEINTR2(func() (int, error) {
		return unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	})
	if err != nil {
		return -1, err
	}
	// fchmod sets the bits exactly; the mode given to open is filtered by
	// the umask.
	if err := unix.Fchmod(fd, mode); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func (c *tmpfileCreator) descriptor() int { return c.fd }

func (c *tmpfileCreator) publish() error { return linkFD(c.fd, c.final) }

// linkFD gives the open file fd the name path; it fails with EEXIST if the
// name is taken.
func linkFD(fd int, path string) error {
	// Linking /proc/self/fd/N needs no privilege; AT_EMPTY_PATH on the
	// descriptor itself needs CAP_DAC_READ_SEARCH, so it is the fallback
	// for systems without /proc.
	err := ignoringEINTR(func() error {
		return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	})
	if errors.Is(err, syscall.ENOENT) {
		if _, serr := os.Stat("/proc/self/fd"); serr != nil {
			err = unix.Linkat(fd, "", unix.AT_FDCWD, path, unix.AT_EMPTY_PATH)
		}
	}
	return err
}

func (c *tmpfileCreator) abort() { unix.Close(c.fd) }
func (c *tmpfileCreator) close() { unix.Close(c.fd) }

func listShm() ([]string, error) {
	entries, err := os.ReadDir(shmDir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), tempPrefix) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func renameNoReplace(from, to string) error {
	err := unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) {
		return errNoRenameFlags
	}
	return err
}

// unlinkNamed removes the name if it still refers to the validated file f.
func unlinkNamed(n segName, f *file) error { return unlinkPath(pathOf(n), f) }
