package shmtensor

import (
	"errors"
	"fmt"
	"os"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// Each lock owns a descriptor of its own, opened on the very file the
// segment maps: the kernel tells locks apart by open file description.

// lockDescriptor returns a descriptor, with an open file description of
// its own that holds no lock, of the file the segment maps: an idle one or
// a new one.
func (s *Segment) lockDescriptor(write bool) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return -1, ErrClosed
	}
	k := 0
	if write {
		k = 1
	}
	if idle := s.lockPool.idle[k]; len(idle) > 0 {
		fd := idle[len(idle)-1]
		s.lockPool.idle[k] = idle[:len(idle)-1]
		return fd, nil
	}
	return reopen(s, write)
}

// putDescriptor keeps fd, which holds no lock, for reuse, or closes it.
// The caller holds s.mu.
func (s *Segment) putDescriptor(fd int, write bool) {
	k := 0
	if write {
		k = 1
	}
	if s.closed.Load() || len(s.lockPool.idle[k]) >= maxIdleLockFDs {
		closeFD(fd)
		return
	}
	s.lockPool.idle[k] = append(s.lockPool.idle[k], fd)
}

// reopen opens the file behind s.fd again, as a new open file description
// (dup would share the description, and with it the locks): through
// /proc/self/fd on Linux, which reaches the very file mapped even when it
// has been unlinked or replaced under its name since, else by the name,
// checked to still be the segment's file. The caller holds s.mu, so s.fd is
// open.
func reopen(s *Segment, write bool) (int, error) {
	fd, err := sys.ReopenFD(s.fd, write)
	switch {
	case errors.Is(err, ErrNotSupported):
		return reopenByName(s, write)
	case errors.Is(err, sys.ENOENT):
		if _, serr := os.Stat("/proc/self/fd"); serr != nil {
			return -1, fmt.Errorf("%w: locks need /proc mounted (%v)", ErrNotSupported, err)
		}
		return -1, fmt.Errorf("open a lock descriptor: %w", err)
	case errors.Is(err, sys.EACCES), errors.Is(err, sys.EPERM):
		return -1, fmt.Errorf("open a lock descriptor: %w", ErrPermission)
	case err != nil:
		return -1, fmt.Errorf("open a lock descriptor: %w", err)
	}
	id, err := fileIdentity(fd)
	if err == nil && id != s.id {
		err = fmt.Errorf("descriptor %d is %v, not the segment's file %v", s.fd, id, s.id)
	}
	if err != nil {
		closeFD(fd)
		return -1, err
	}
	return fd, nil
}

// reopenByName is reopen where the system has no /proc: the identity
// check refuses the new descriptor if the name has since been given to
// another file, and locking then fails rather than locking the wrong one.
func reopenByName(s *Segment, write bool) (int, error) {
	n, err := parseName(s.name)
	if err != nil {
		return -1, err
	}
	fd, err := openNamed(n, write)
	if err != nil {
		if errors.Is(err, sys.ENOENT) {
			return -1, fmt.Errorf("%w: the segment's name is gone, and locks on this system need it", ErrNotExist)
		}
		return -1, mapErrno(err, n)
	}
	id, err := fileIdentity(fd)
	if err == nil && id != s.id {
		err = fmt.Errorf("%w: the segment's name now refers to another file, and locks on this system need it", ErrNotExist)
	}
	if err != nil {
		closeFD(fd)
		return -1, err
	}
	return fd, nil
}
