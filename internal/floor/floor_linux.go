package floor

import (
	"strconv"

	"golang.org/x/sys/unix"
)

// Attach is the least any attach of the file at path does: open, fstat,
// mmap of the whole file, munmap, close. With header not nil it also
// preads the file's first len(header) bytes into it, as reading a header
// page does; it validates nothing.
func Attach(path string, header []byte) error { return attach(path, header, false) }

// AttachLocked is Attach with the liveness lock every attach of the
// package takes: a shared OFD lock on the byte at 1<<62 (internal/sys's
// LiveByte), taken after the fstat and dropped by the close. Its system
// calls are exactly those Attach makes.
func AttachLocked(path string, header []byte) error { return attach(path, header, true) }

func attach(path string, header []byte, lock bool) error {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if lock {
		lk := unix.Flock_t{Type: unix.F_RDLCK, Start: 1 << 62, Len: 1}
		if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk); err != nil {
			return err
		}
	}
	if header != nil {
		if _, err := unix.Pread(fd, header, 0); err != nil {
			return err
		}
	}
	mem, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	return unix.Munmap(mem)
}

// Create is the least any create does: an unnamed O_TMPFILE of n bytes in
// dir, sized by fallocate (reserve) or ftruncate, mapped and unmapped.
// With path not empty it also links the file under path and unlinks it,
// as a named create followed by a delete must. Closing the last reference
// to an unnamed inode frees it, so there is nothing else to delete.
func Create(dir string, n int64, reserve bool, path string) error {
	fd, err := unix.Open(dir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if reserve {
		err = unix.Fallocate(fd, 0, 0, n)
	} else {
		err = unix.Ftruncate(fd, n)
	}
	if err != nil {
		return err
	}
	mem, err := unix.Mmap(fd, 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	if path != "" {
		if err := unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW); err != nil {
			unix.Munmap(mem)
			return err
		}
		if err := unix.Unlink(path); err != nil {
			unix.Munmap(mem)
			return err
		}
	}
	return unix.Munmap(mem)
}

// LockPair is what an uncontended exclusive lock and its unlock are made
// of: two fcntl(F_OFD_SETLK) calls over n bytes from start of the file
// open as fd.
func LockPair(fd int, start, n int64) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: start, Len: n}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk); err != nil {
		return err
	}
	lk.Type = unix.F_UNLCK
	return unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk)
}
