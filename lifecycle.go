package shmtensor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/shmtensor/shmtensor/internal/strided"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// Unpublished makes Create build the segment, header and data, without a
// name: no other process can attach it until Publish or Replace names it,
// so readers only ever see it complete. Closing an Unpublished segment that
// was never published leaves nothing behind.
//
// On Linux the segment is an unnamed O_TMPFILE file (or, on a filesystem
// without O_TMPFILE, a file under a hidden temporary name); on FreeBSD and
// macOS file:// segments use a hidden temporary name, while shm:// names
// fail with ErrNotSupported because those systems offer no way to rename a
// shared memory object.
func Unpublished() Option { return func(o *options) { o.unpublished = true } }

// Publish gives an Unpublished segment its name, atomically: other
// processes see the name with everything written to the segment before
// Publish, or no name at all. It fails with ErrExist if the name is taken,
// and the segment then stays unpublished (Close discards it, Replace may
// still name it). Publishing a segment that already has its name fails with
// ErrExist too.
func (s *Segment) Publish() error {
	return s.name1("publish", func(c creator) error {
		if err := c.publish(); err != nil {
			n, _ := parseName(s.name)
			return createErrno(err, n)
		}
		return nil
	})
}

// Replace gives an Unpublished segment its name, atomically, in place of the
// tensor segment there (or of nothing). Processes that attached the
// replaced segment keep it, unchanged, until they close it; attaches after
// Replace get the new one; nobody sees a mix. The replaced segment's memory
// is freed when its last mapping goes.
//
// A name held by anything that is not a tensor segment (a foreign file, a
// directory) is refused with ErrNotTensor and left as it was. On Linux this
// holds even against a file swapped in during Replace, through
// renameat2(RENAME_EXCHANGE) (macOS: renamex_np(RENAME_SWAP)); on a
// filesystem that cannot exchange names, and on FreeBSD, the check and the
// rename are two steps.
//
// A failed Replace leaves the segment unpublished, to be published,
// replaced again or discarded by Close. On Linux it may then hold a hidden
// temporary name in the target's directory (an O_TMPFILE file cannot be
// linked again once its first name is gone), which Close removes; only if
// the process dies before that does it remain, for "shmtensor gc".
func (s *Segment) Replace() error {
	return s.name1("replace", func(c creator) error {
		n, _ := parseName(s.name)
		return replaceStaged(&s.staged, n, s.id)
	})
}

// name1 runs publish or replace on an unpublished segment.
func (s *Segment) name1(op string, f func(creator) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed.Load():
		return &Error{Op: op, Name: s.name, Err: ErrClosed}
	case s.staged == nil:
		return &Error{Op: op, Name: s.name, Err: fmt.Errorf("%w: the segment is already published (only Unpublished segments are published)", ErrExist)}
	}
	if err := f(s.staged); err != nil {
		return &Error{Op: op, Name: s.name, Err: err}
	}
	s.staged = nil // the descriptor now belongs to the published segment
	return nil
}

// Wait returns the Info of the tensor segment under name as soon as there
// is one, at once if there is one already. Anything else under the name (a
// foreign file, a file still being written by a program that does not
// publish atomically) does not end the wait. It returns ctx.Err() when ctx
// is done.
//
// On Linux it sleeps on inotify(7) events for the name's directory
// (/dev/shm for shm names), or polls with a backoff up to 50 ms when the
// user's inotify limits are reached; on FreeBSD and macOS it sleeps on
// kqueue(2) events of a file:// name's directory and polls shm names.
func Wait(ctx context.Context, name string) (Info, error) {
	return waitName(ctx, "wait", name, func(Info) bool { return true })
}

// WaitReplaced returns once name holds a tensor segment other than old (a
// different FileID), such as one put there by Replace, or by Delete and
// Create. A zero old waits for any segment, as Wait does. It returns
// ctx.Err() when ctx is done.
func WaitReplaced(ctx context.Context, name string, old Info) (Info, error) {
	return waitName(ctx, "wait", name, func(in Info) bool { return in.ID != old.ID })
}

func waitName(ctx context.Context, op, name string, done func(Info) bool) (Info, error) {
	n, err := parseName(name)
	if err != nil {
		return Info{}, &Error{Op: op, Name: name, Err: err}
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	// check reports whether the wait is over, and any error that ends it.
	check := func() (Info, bool, error) {
		info, err := statName(n)
		switch {
		case err == nil:
			return info, done(info), nil
		case errors.Is(err, ErrNotExist), errors.Is(err, ErrNotTensor):
			return Info{}, false, nil
		}
		return Info{}, false, err
	}
	info, err := waitFor(ctx, n, check)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return Info{}, err
		}
		return Info{}, &Error{Op: op, Name: n.name, Err: err}
	}
	return info, nil
}

// AttachOrCreate attaches the tensor segment under name or, if there is
// none, creates it: among any number of processes calling it at once,
// exactly one runs init on a fresh, zeroed, unpublished tensor and then
// publishes it; the others wait for it and attach the published tensor.
// created reports which one this caller was.
//
// If init returns an error, or panics, or the process running it dies,
// nothing is published and one of the waiting callers takes over with its
// own init. Callers are serialised by a lock the kernel releases when its
// holder dies (an open file description lock on Linux, flock elsewhere) on
// a hidden lock file next to the segment, named ".shmtensor-lock-" plus the
// segment's base name; it is removed when the segment is published.
//
// A published tensor of another element type is an ErrDType error, one of
// another shape an ErrShape error: never a second creation. The options
// are those of Create and Attach; with ReadOnly, init still gets a writable
// tensor and the caller a read-only one. On FreeBSD and macOS, whose shm
// objects cannot be published unpublished, it takes file:// names only
// (ErrNotSupported for shm names).
func AttachOrCreate[T Number](name string, shape []int, init func(*Tensor[T]) error, opts ...Option) (t *Tensor[T], created bool, err error) {
	const op = "attach-or-create"
	n, err := parseName(name)
	if err != nil {
		return nil, false, &Error{Op: op, Name: name, Err: err}
	}
	o := buildOptions(opts)
	if o.modeErr != nil {
		return nil, false, &Error{Op: op, Name: n.name, Err: o.modeErr}
	}
	if _, err := strided.ByteSize(shape, DTypeOf[T]().Size()); err != nil {
		return nil, false, &Error{Op: op, Name: n.name, Err: err}
	}
	// attach returns the published tensor, or an error wrapping
	// ErrNotExist if there is none yet.
	attach := func() (*Tensor[T], error) {
		t, err := Attach[T](n.name, opts...)
		if err != nil {
			return nil, err
		}
		if got := t.Shape(); !slices.Equal(got, shape) {
			t.Close()
			return nil, &Error{Op: op, Name: n.name, Err: fmt.Errorf("%w: segment has shape %v, want %v", ErrShape, got, shape)}
		}
		return t, nil
	}
	staged := append(slices.Clone(opts), func(o *options) { o.readOnly, o.unpublished = false, true })
	for {
		t, err := attach()
		if !errors.Is(err, ErrNotExist) {
			return t, false, err
		}
		unlock, err := lockCreation(n, o.mode)
		if err != nil {
			return nil, false, &Error{Op: op, Name: n.name, Err: err}
		}
		// Whoever held the lock before may have published meanwhile.
		t, err = attach()
		if !errors.Is(err, ErrNotExist) {
			unlock()
			return t, false, err
		}
		t, err = func() (*Tensor[T], error) {
			defer unlock() // also when init panics
			return createOnce(n.name, shape, init, staged)
		}()
		switch {
		case err != nil:
			return nil, false, err
		case t == nil:
			continue // someone made it without AttachOrCreate: attach theirs
		case o.readOnly:
			// Attach the published segment again, read-only; this
			// process keeps the name's segment mapped throughout.
			r, err := attach()
			t.Close()
			if err != nil {
				return nil, false, err
			}
			t = r
		}
		return t, true, nil
	}
}

// createOnce runs init on a new Unpublished tensor and publishes it. It
// returns nil, with no error, if the name was taken meanwhile.
func createOnce[T Number](name string, shape []int, init func(*Tensor[T]) error, opts []Option) (*Tensor[T], error) {
	const op = "attach-or-create"
	t, err := Create[T](name, shape, opts...)
	if err != nil {
		return nil, err
	}
	published := false
	// Closing the unpublished tensor discards it, also when init panics.
	defer func() {
		if !published {
			t.Close()
		}
	}()
	if err := init(t); err != nil {
		return nil, &Error{Op: op, Name: t.seg.name, Err: fmt.Errorf("init: %w", err)}
	}
	if err := t.seg.Publish(); err != nil {
		if errors.Is(err, ErrExist) {
			return nil, nil
		}
		return nil, err
	}
	published = true
	return t, nil
}

// Mappers returns the ids of the processes that have the tensor segment
// under name mapped, sorted, the caller included if it has. numpy
// (np.load with mmap_mode), SharedArray and any other program count, as
// long as it maps this very file: device and inode are matched, not the
// path, so a segment replaced or deleted since is not confused with the one
// under the name now.
//
// On Linux it reads /proc/PID/maps, which shows a process only to its own
// user and to root (or holders of CAP_SYS_PTRACE): as another user, the
// processes of other users are missing from the answer. The device number
// /proc shows is the inode's own: on overlayfs and btrfs subvolumes it can
// differ from the one stat reports, and Mappers may then miss mappings of
// file:// segments there (shm segments live on tmpfs, where both agree).
// Elsewhere it fails with ErrNotSupported.
func Mappers(name string) ([]int, error) {
	const op = "mappers"
	n, err := parseName(name)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	info, err := statName(n)
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	table, err := scanMappers(&info.ID)
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	return table[info.ID], nil
}

// MappedBy returns, for every file some process has mapped, the sorted ids
// of those processes, from one pass over the system's processes: the way
// to ask Mappers about many segments at once (look up Info.ID). Its limits
// are those of Mappers.
func MappedBy() (map[FileID][]int, error) {
	table, err := scanMappers(nil)
	if err != nil {
		return nil, &Error{Op: "mappers", Err: err}
	}
	return table, nil
}

// lockPrefix starts the names of the lock files AttachOrCreate serialises
// its callers with, next to the segment. Like every name starting with
// ".shmtensor-", it is reserved: such a file is never a tensor segment.
const lockPrefix = reservedPrefix + "lock-"

// lockName returns the lock file AttachOrCreate uses for n.
func lockName(n segName) (string, error) {
	if n.shm && !sys.ShmIsFile {
		return "", ErrNotSupported
	}
	dir, base := filepath.Split(pathOf(n))
	if len(lockPrefix)+len(base) > 255 {
		// NAME_MAX: a long name's lock is named by its hash.
		sum := sha256.Sum256([]byte(base))
		base = hex.EncodeToString(sum[:16])
	}
	return filepath.Join(dir, lockPrefix+base), nil
}

// lockCreation takes the creation lock of n, waiting for it as long as it
// takes. The lock file is removed by the holder before it lets go, so a
// waiter that gets the lock of a removed file starts over with the file now
// under the name: every holder holds the lock of the one file there.
func lockCreation(n segName, mode uint32) (unlock func(), err error) {
	path, err := lockName(n)
	if err != nil {
		return nil, err
	}
	for {
		fd, err := sys.OpenOrCreate(path, mode)
		if err != nil {
			return nil, fmt.Errorf("open lock file %s: %w", path, err)
		}
		st, err := sys.Fstat(fd)
		if err == nil && st.Kind != sys.Regular {
			sys.Close(fd)
			return nil, fmt.Errorf("lock file %s is not a regular file", path)
		}
		if err := sys.LockFile(fd); err != nil {
			sys.Close(fd)
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		id, err := fileIdentity(fd)
		if err != nil {
			sys.Close(fd)
			return nil, err
		}
		if now, err := lstatID(path); err != nil || now != id {
			sys.Close(fd) // a removed lock file: its holder is done
			continue
		}
		return func() {
			unlinkID(path, id)
			sys.Close(fd)
		}, nil
	}
}
