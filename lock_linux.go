package shmtensor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// reopen opens the file behind s.fd again through /proc/self/fd, which
// gives a new open file description of the same inode (dup would share the
// description, and with it the locks), even when the file has been unlinked
// or replaced under its name since. The caller holds s.mu, so s.fd is open;
// fstat checks that the new descriptor is the segment's file all the same.
func reopen(s *Segment, write bool) (int, error) {
	flags := unix.O_RDONLY
	if write {
		flags = unix.O_RDWR
	}
	fd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(s.fd), flags|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			if _, serr := os.Stat("/proc/self/fd"); serr != nil {
				return -1, fmt.Errorf("%w: locks need /proc mounted (%v)", ErrNotSupported, err)
			}
		}
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			return -1, fmt.Errorf("open a lock descriptor: %w", ErrPermission)
		}
		return -1, fmt.Errorf("open a lock descriptor: %w", err)
	}
	id, err := fileIdentity(fd)
	if err == nil && id != s.id {
		err = fmt.Errorf("descriptor %d is %v, not the segment's file %v", s.fd, id, s.id)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// setLock takes an open file description lock (fcntl(2), F_OFD_SETLK) on
// r's byte range. Such locks belong to the description, not to the process
// or thread: they conflict between two descriptions of one process, are not
// dropped when some other descriptor of the file is closed (as classic
// POSIX locks are), and go away when the description's last descriptor is
// closed, which includes the holder's death.
func setLock(r lockRequest, wait bool) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: r.start, Len: r.len}
	if r.shared {
		lk.Type = unix.F_RDLCK
	}
	cmd := unix.F_OFD_SETLK
	if wait {
		cmd = unix.F_OFD_SETLKW
	}
	for {
		err := unix.FcntlFlock(uintptr(r.fd), cmd, &lk)
		switch {
		case err == nil:
			return nil
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN || err == syscall.EACCES:
			return errWouldBlock
		case err == syscall.EINVAL:
			return fmt.Errorf("%w: open file description locks need Linux 3.15 or later (%v)", ErrNotSupported, err)
		}
		return fmt.Errorf("fcntl: %w", err)
	}
}

// clearLock releases the lock r took, leaving its descriptor free for
// another lock.
func clearLock(r lockRequest) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: io.SeekStart, Start: r.start, Len: r.len}
	return unix.FcntlFlock(uintptr(r.fd), unix.F_OFD_SETLK, &lk)
}
