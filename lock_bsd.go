//go:build darwin || freebsd

package shmtensor

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// reopen opens the segment's file again by its name: flock(2) locks belong
// to the open file description, so a lock needs a description of its own,
// which dup would not give, and these systems have no /proc to reopen a
// descriptor through (macOS's /dev/fd/N is a dup). The identity check
// refuses the new descriptor if the name has since been given to another
// file; locking then fails rather than locking the wrong one.
func reopen(s *Segment, write bool) (int, error) {
	n, err := parseName(s.name)
	if err != nil {
		return -1, err
	}
	flags := unix.O_RDONLY
	if write {
		flags = unix.O_RDWR
	}
	fd, err := openNamed(n, flags|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NONBLOCK)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return -1, fmt.Errorf("%w: the segment's name is gone, and locks on this system need it", ErrNotExist)
		}
		return -1, mapErrno(err, n)
	}
	id, err := fileIdentity(fd)
	if err == nil && id != s.id {
		err = fmt.Errorf("%w: the segment's name now refers to another file, and locks on this system need it", ErrNotExist)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// setLock takes a flock(2) lock on the whole file: these systems have no
// open file description record locks (macOS) or none that Python shares,
// so row ranges widen to the segment.
func setLock(r lockRequest, wait bool) error {
	how := unix.LOCK_EX
	if r.shared {
		how = unix.LOCK_SH
	}
	if !wait {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(r.fd, how)
		switch {
		case err == nil:
			return nil
		case err == syscall.EINTR:
			continue
		case err == syscall.EWOULDBLOCK:
			return errWouldBlock
		case err == syscall.EOPNOTSUPP || err == syscall.ENOTSUP:
			return fmt.Errorf("%w: flock on this kind of object (%v)", ErrNotSupported, err)
		}
		return fmt.Errorf("flock: %w", err)
	}
}

// clearLock releases the lock r took, leaving its descriptor free for
// another lock.
func clearLock(r lockRequest) error { return unix.Flock(r.fd, unix.LOCK_UN) }
