//go:build darwin || freebsd

package sys

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// Locks here are flock(2) locks on the whole file: these systems have no
// open file description record locks (macOS) or none that Python shares,
// so byte ranges widen to the file. They belong to the open file and the
// kernel drops them when the holder dies.

// LockFile takes an exclusive lock on the whole file fd, waiting for it.
func LockFile(fd int) error {
	for {
		err := unix.Flock(fd, unix.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

// SetLock takes a lock on the whole file fd, shared or exclusive, waiting
// for it if wait, else failing with ErrWouldBlock when a conflicting lock
// is held; the range is ignored.
func SetLock(fd int, start, n int64, shared, wait bool) error {
	how := unix.LOCK_EX
	if shared {
		how = unix.LOCK_SH
	}
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(fd, how)
		switch {
		case err == nil:
			return nil
		case err == syscall.EINTR:
			continue
		case err == syscall.EWOULDBLOCK:
			return ErrWouldBlock
		case err == syscall.EOPNOTSUPP || err == syscall.ENOTSUP:
			return fmt.Errorf("%w: flock on this kind of object (%v)", errs.ErrNotSupported, err)
		}
		return fmt.Errorf("flock: %w", err)
	}
}

// ClearLock releases the lock SetLock took, leaving fd free for another
// lock.
func ClearLock(fd int, start, n int64) error { return unix.Flock(fd, unix.LOCK_UN) }

// LockHeld reports whether another open file holds a flock(2) lock on the
// file, by trying to take one and letting go of it at once.
func LockHeld(fd int) (bool, error) {
	err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
	if err == syscall.EWOULDBLOCK {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return false, unix.Flock(fd, unix.LOCK_UN)
}
