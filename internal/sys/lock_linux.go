package sys

import (
	"fmt"
	"io"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// Locks here are open file description locks (fcntl(2), F_OFD_SETLK). They
// belong to the description, not to the process or thread: they conflict
// between two descriptions of one process, are not dropped when some other
// descriptor of the file is closed (as classic POSIX locks are), and go
// away when the description's last descriptor is closed, which includes the
// holder's death.

// LockFile takes an exclusive lock on the whole file fd, waiting for it.
func LockFile(fd int) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	for {
		err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLKW, &lk)
		if err == syscall.EINVAL {
			// Before Linux 3.15: flock(2) locks also belong to the
			// open file and go with their holder.
			err = unix.Flock(fd, unix.LOCK_EX)
		}
		if err != syscall.EINTR {
			return err
		}
	}
}

// SetLock takes a lock on bytes [start, start+n) of fd (n == 0: to the
// end), shared or exclusive, waiting for it if wait, else failing with
// ErrWouldBlock when a conflicting lock is held.
func SetLock(fd int, start, n int64, shared, wait bool) error {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: start, Len: n}
	if shared {
		lk.Type = unix.F_RDLCK
	}
	cmd := unix.F_OFD_SETLK
	if wait {
		cmd = unix.F_OFD_SETLKW
	}
	for {
		err := unix.FcntlFlock(uintptr(fd), cmd, &lk)
		switch {
		case err == nil:
			return nil
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN || err == syscall.EACCES:
			return ErrWouldBlock
		case err == syscall.EINVAL:
			return fmt.Errorf("%w: open file description locks need Linux 3.15 or later (%v)", errs.ErrNotSupported, err)
		}
		return fmt.Errorf("fcntl: %w", err)
	}
}

// ClearLock releases the lock SetLock took on the same range, leaving fd
// free for another lock.
func ClearLock(fd int, start, n int64) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: io.SeekStart, Start: start, Len: n}
	return unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk)
}

// LockHeld reports whether a description other than fd's holds a lock on
// any byte of the file (F_OFD_GETLK: open file description locks and
// classic POSIX locks alike; before Linux 3.15, a flock(2) lock).
func LockHeld(fd int) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart}
	err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_GETLK, &lk)
	if err == syscall.EINVAL {
		return flockHeld(fd)
	}
	if err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}

// flockHeld tests for a flock(2) lock by trying to take one, and lets go
// of it at once.
func flockHeld(fd int) (bool, error) {
	err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if err == syscall.EWOULDBLOCK {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, unix.Flock(fd, unix.LOCK_UN)
}
