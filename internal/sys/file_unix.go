//go:build linux || darwin || freebsd

package sys

import (
	"time"

	"golang.org/x/sys/unix"
)

// PathMax is PATH_MAX: the longest path, with its NUL.
const PathMax = unix.PathMax

// openFlags are added to every open of an existing file: no symbolic link
// is followed, a FIFO does not block the open, a terminal does not become
// the controlling one, and the descriptor is not inherited by children.
const openFlags = unix.O_NOFOLLOW | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC

func accessMode(write bool) int {
	if write {
		return unix.O_RDWR
	}
	return unix.O_RDONLY
}

// Open opens the file at path for reading, or reading and writing.
func Open(path string, write bool) (int, error) {
	return ignoringEINTR2(func() (int, error) { return unix.Open(path, accessMode(write)|openFlags, 0) })
}

// CreateExclusive creates a new file at path, open for reading and writing
// with mode 0600, or fails with EEXIST if the name is taken.
func CreateExclusive(path string) (int, error) {
	return ignoringEINTR2(func() (int, error) {
		return unix.Open(path, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	})
}

// OpenOrCreate opens the file at path for reading and writing, creating it
// with mode (less the umask) if it does not exist.
func OpenOrCreate(path string, mode uint32) (int, error) {
	return ignoringEINTR2(func() (int, error) {
		return unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	})
}

// Close closes fd; its error, which says nothing useful after a successful
// use of the descriptor, is dropped.
func Close(fd int) { unix.Close(fd) }

func toStat(st *unix.Stat_t) Stat {
	return Stat{
		Kind:    kindOf(uint32(st.Mode)),
		Perm:    uint32(st.Mode) & 0o777,
		Size:    st.Size,
		Blocks:  int64(st.Blocks),
		ID:      ID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)},
		UID:     st.Uid,
		GID:     st.Gid,
		ModTime: time.Unix(st.Mtim.Unix()),
	}
}

func kindOf(mode uint32) Kind {
	switch mode & unix.S_IFMT {
	case unix.S_IFREG:
		return Regular
	case unix.S_IFDIR:
		return Dir
	case unix.S_IFIFO:
		return FIFO
	case unix.S_IFCHR, unix.S_IFBLK:
		return Device
	case unix.S_IFSOCK:
		return Socket
	case unix.S_IFLNK:
		return Symlink
	case 0:
		return Untyped
	}
	return Other
}

// Fstat reports the open file fd.
func Fstat(fd int) (Stat, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return Stat{}, err
	}
	return toStat(&st), nil
}

// Lstat reports the file at path, not following a symbolic link.
func Lstat(path string) (Stat, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return Stat{}, err
	}
	return toStat(&st), nil
}

// Pread reads from fd at off.
func Pread(fd int, p []byte, off int64) (int, error) {
	return ignoringEINTR2(func() (int, error) { return unix.Pread(fd, p, off) })
}

// Fchmod sets the permission bits of fd exactly, whatever the umask.
func Fchmod(fd int, mode uint32) error { return unix.Fchmod(fd, mode) }

// Truncate sets the size of fd.
func Truncate(fd int, size int64) error {
	return ignoringEINTR(func() error { return unix.Ftruncate(fd, size) })
}

// Link gives the file at old the new name new, failing with EEXIST if new
// is taken.
func Link(old, new string) error { return ignoringEINTR(func() error { return unix.Link(old, new) }) }

// Rename renames old to new, replacing what new held.
func Rename(old, new string) error {
	return ignoringEINTR(func() error { return unix.Rename(old, new) })
}

// Unlink removes the name path.
func Unlink(path string) error { return unix.Unlink(path) }

// UnlinkID removes path if it is still the file id, and fails with
// ErrReplaced, removing nothing, if it is another file. The check and the
// unlink are two steps: a name replaced between them is removed.
func UnlinkID(path string, id ID) error {
	st, err := Lstat(path)
	if err != nil {
		return err
	}
	if st.ID != id {
		return ErrReplaced
	}
	return unix.Unlink(path)
}

// Geteuid returns the caller's effective user id; ok is false where the
// system has none.
func Geteuid() (uid uint32, ok bool) { return uint32(unix.Geteuid()), true }
