package sys

import (
	"errors"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// OpenTmpfile opens an unnamed file in dir (O_TMPFILE) with exactly mode,
// for reading and writing; LinkFD names it. A process killed before the
// link leaves nothing behind.
func OpenTmpfile(dir string, mode uint32) (int, error) {
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

// LinkFD gives the open file fd the name path, atomically; it fails with
// EEXIST if the name is taken.
func LinkFD(fd int, path string) error {
	// Linking /proc/self/fd/N needs no privilege; AT_EMPTY_PATH on the
	// descriptor itself needs CAP_DAC_READ_SEARCH, so it is the fallback
	// for systems without /proc.
	err := ignoringEINTR(func() error {
		return unix.Linkat(unix.AT_FDCWD, procFD(fd), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	})
	if errors.Is(err, syscall.ENOENT) {
		if _, serr := os.Stat("/proc/self/fd"); serr != nil {
			err = unix.Linkat(fd, "", unix.AT_FDCWD, path, unix.AT_EMPTY_PATH)
		}
	}
	return err
}

// procFD names the open file fd in /proc.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
