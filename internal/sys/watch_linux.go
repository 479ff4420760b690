package sys

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// WatchDir calls check until it reports done or fails, each time inotify
// reports a change to the name base or its content in dir, and returns
// ctx.Err() as soon as ctx is done. check is called once after the watch is
// in place, so that nothing that happened before is missed. A directory
// that does not exist, or that is removed or moved while watched, is an
// error wrapping errs.ErrNotExist.
func WatchDir(ctx context.Context, dir, base string, check func() (done bool, err error)) error {
	in, err := InotifyInit(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		if inotifyExhausted(err) {
			return ErrNoWatch
		}
		return fmt.Errorf("inotify: %w", err)
	}
	// A non-blocking descriptor makes a pollable File: its reads sleep in
	// the runtime's poller, not in a thread of their own, and a read
	// deadline interrupts them when ctx is done.
	f := os.NewFile(uintptr(in), "inotify")
	// Closing an inotify instance waits for an SRCU grace period, often
	// milliseconds: the caller need not wait for it.
	defer func() { go f.Close() }()
	// IN_CREATE: link; IN_MOVED_TO: rename; the others let a name that
	// first held something else be looked at again when it changes.
	const mask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_CLOSE_WRITE | unix.IN_MODIFY | unix.IN_ATTRIB |
		unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR
	if _, err := unix.InotifyAddWatch(in, dir, mask); err != nil {
		switch {
		case errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR):
			return fmt.Errorf("directory %s does not exist: %w", dir, errs.ErrNotExist)
		case inotifyExhausted(err):
			return ErrNoWatch
		}
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	if done, err := check(); err != nil || done {
		return err
	}
	buf := make([]byte, 64*(unix.SizeofInotifyEvent+unix.NAME_MAX+1))
	for {
		nr, err := f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("read inotify events: %w", err)
		}
		look := false
		for off := 0; off+unix.SizeofInotifyEvent <= nr; {
			// struct inotify_event: wd, mask, cookie, len, then len
			// bytes of NUL-padded name (inotify(7)).
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			n := int(binary.NativeEndian.Uint32(buf[off+12:]))
			name := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+n]
			off += unix.SizeofInotifyEvent + n
			switch {
			case mask&unix.IN_Q_OVERFLOW != 0:
				look = true // events were lost: look anyway
			case mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_IGNORED) != 0:
				return fmt.Errorf("directory %s was removed or moved while waiting: %w", dir, errs.ErrNotExist)
			case string(bytes.TrimRight(name, "\x00")) == base:
				look = true
			}
		}
		if look {
			if done, err := check(); err != nil || done {
				return err
			}
		}
	}
}

// InotifyInit is inotify_init1(2); tests replace it to run out of
// instances.
var InotifyInit = unix.InotifyInit1

// inotifyExhausted reports the errors of a user's inotify limits
// (fs.inotify.max_user_instances, 128 by default, and max_user_watches),
// which waiting survives by polling instead.
func inotifyExhausted(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.ENOMEM)
}
