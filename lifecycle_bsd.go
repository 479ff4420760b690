//go:build darwin || freebsd

package shmtensor

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// shm objects live outside the file system here: no link, rename or lock
// file can name them, so Unpublished and AttachOrCreate support only
// file:// names.
const shmIsFile = false

// newStagedCreator makes the file of an Unpublished file:// segment under a
// hidden temporary name; shm objects cannot be renamed here.
func newStagedCreator(n segName, mode uint32) (creator, error) {
	if n.shm {
		return nil, fmt.Errorf("%w: unpublished shm segments (the system cannot rename shm objects; use a file:// name)", ErrNotSupported)
	}
	return newTempCreator(n.path, mode)
}

// linkFD is not needed here: staged files always have a temporary name.
func linkFD(fd int, path string) error { return ErrNotSupported }

// lockFD takes an exclusive flock(2) lock on the file, waiting for it. It
// belongs to the open file and the kernel drops it when the holder dies.
func lockFD(fd int) error {
	for {
		err := unix.Flock(fd, unix.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}

// waitFor calls check until it reports the wait over: for file:// names
// each time kqueue(2) reports a change to the name's directory, and at
// least every 100 ms for files written in place; shm names, which have no
// directory to watch, are polled.
func waitFor(ctx context.Context, n segName, check func() (Info, bool, error)) (Info, error) {
	if n.shm {
		return pollWait(ctx, check)
	}
	dir := filepath.Dir(n.path)
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return Info{}, fmt.Errorf("directory %s does not exist: %w", dir, ErrNotExist)
		}
		return pollWait(ctx, check)
	}
	defer unix.Close(dfd)
	kq, err := unix.Kqueue()
	if err != nil {
		return pollWait(ctx, check)
	}
	defer unix.Close(kq)
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return pollWait(ctx, check)
	}
	unix.CloseOnExec(p[0])
	unix.CloseOnExec(p[1])
	defer unix.Close(p[0])
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		unix.Write(p[1], []byte{1})
		close(fired)
	})
	defer func() {
		if !stop() {
			<-fired
		}
		unix.Close(p[1])
	}()
	var changes [2]unix.Kevent_t
	unix.SetKevent(&changes[0], dfd, unix.EVFILT_VNODE, unix.EV_ADD|unix.EV_CLEAR)
	changes[0].Fflags = unix.NOTE_WRITE | unix.NOTE_DELETE | unix.NOTE_RENAME | unix.NOTE_ATTRIB
	unix.SetKevent(&changes[1], p[0], unix.EVFILT_READ, unix.EV_ADD)
	if _, err := unix.Kevent(kq, changes[:], nil, nil); err != nil {
		return pollWait(ctx, check)
	}
	if info, ok, err := check(); err != nil || ok {
		return info, err
	}
	events := make([]unix.Kevent_t, 4)
	timeout := unix.NsecToTimespec(int64(100 * time.Millisecond))
	for {
		nev, err := unix.Kevent(kq, nil, events, &timeout)
		if err != nil && err != syscall.EINTR {
			return Info{}, fmt.Errorf("kevent: %w", err)
		}
		for _, ev := range events[:max(nev, 0)] {
			if int(ev.Ident) == p[0] {
				return Info{}, ctx.Err()
			}
			if ev.Fflags&(unix.NOTE_DELETE|unix.NOTE_RENAME) != 0 {
				return Info{}, fmt.Errorf("directory %s was removed or moved while waiting: %w", dir, ErrNotExist)
			}
		}
		if info, ok, err := check(); err != nil || ok {
			return info, err
		}
	}
}

// scanMappers is not possible here: these systems have no /proc maps.
func scanMappers(want *FileID) (map[FileID][]int, error) {
	return nil, fmt.Errorf("%w: finding the processes that map a file needs Linux's /proc", ErrNotSupported)
}
