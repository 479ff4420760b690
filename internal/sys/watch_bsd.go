//go:build darwin || freebsd

package sys

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// WatchDir calls check until it reports done or fails, each time kqueue(2)
// reports a change to dir, and at least every 100 ms for files written in
// place; it returns ctx.Err() as soon as ctx is done. base is not needed:
// kqueue does not say which name changed.
func WatchDir(ctx context.Context, dir, base string, check func() (done bool, err error)) error {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("directory %s does not exist: %w", dir, errs.ErrNotExist)
		}
		return ErrNoWatch
	}
	defer unix.Close(dfd)
	kq, err := unix.Kqueue()
	if err != nil {
		return ErrNoWatch
	}
	defer unix.Close(kq)
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		return ErrNoWatch
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
		return ErrNoWatch
	}
	if done, err := check(); err != nil || done {
		return err
	}
	events := make([]unix.Kevent_t, 4)
	timeout := unix.NsecToTimespec(int64(100 * time.Millisecond))
	for {
		nev, err := unix.Kevent(kq, nil, events, &timeout)
		if err != nil && err != syscall.EINTR {
			return fmt.Errorf("kevent: %w", err)
		}
		for _, ev := range events[:max(nev, 0)] {
			if int(ev.Ident) == p[0] {
				return ctx.Err()
			}
			if ev.Fflags&(unix.NOTE_DELETE|unix.NOTE_RENAME) != 0 {
				return fmt.Errorf("directory %s was removed or moved while waiting: %w", dir, errs.ErrNotExist)
			}
		}
		if done, err := check(); err != nil || done {
			return err
		}
	}
}
