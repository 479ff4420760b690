package shmtensor

import (
	"errors"
	"fmt"
	"time"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// Liveness. On Linux every Create, Attach and Open holds a shared open file
// description lock on one byte of the segment's file, far beyond its end
// (sys.LiveByte), through the descriptor the Segment keeps until Close. The
// kernel drops the lock at Close or at the holder's death, and the lock is
// a fact of the file, not of a process: a process in another PID namespace
// (another container sharing the tmpfs) that cannot see the holder in /proc
// still sees the lock with F_OFD_GETLK. Mappers and DeleteUnused (and so
// "shmtensor gc" and "shmtensor who") test it before trusting /proc. numpy,
// SharedArray and other programs take no such lock and count through /proc
// only.
//
// DeleteUnused takes an exclusive lock on the same byte while it checks
// and unlinks a segment: an Attach that meets it waits for the deletion to
// end and looks the name up again, so it never maps a file that a gc has
// found unused and is about to unlink.

// UnseenMapper is the process id Mappers reports for a holder of the
// segment that /proc does not show: a process in another PID namespace
// (another container), or of another user when the caller is not root. It
// is 0, as the kernel itself reports the holder of a lock in another PID
// namespace; it is never a process to signal (kill(2) takes 0 for the
// caller's own process group).
const UnseenMapper = 0

// markLive takes the liveness lock on the descriptor of a segment being
// created. It cannot be refused on a file nobody else has seen; where the
// system or filesystem has no such locks the segment goes unmarked, and
// only /proc tells who uses it.
func markLive(fd int) { sys.MarkLive(fd) }

// deleterWait bounds how long an Attach waits for a DeleteUnused that holds
// the liveness byte: a deleter holds it for two scans of /proc, a few
// milliseconds. A deleter stopped for longer than that leaves the Attach
// unmarked rather than hung.
const deleterWait = time.Second

// claimLive takes the liveness lock on the descriptor of a segment being
// attached. It returns false if a DeleteUnused is deleting the file: the
// caller closes it, waits and opens the name again. Any other refusal (a
// program holding a lock to the end of the file, a filesystem without
// locks) leaves the segment unmarked; Attach does not fail for it.
func claimLive(fd int) bool {
	err := sys.MarkLive(fd)
	if err != sys.ErrWouldBlock {
		return true
	}
	h, held, _ := sys.TestLock(fd, sys.LiveByte, 1)
	return !(held && isDeleter(h))
}

// isDeleter reports whether h is DeleteUnused's lock: exclusive, on the
// liveness byte alone. A user's lock reaching that far covers more.
func isDeleter(h sys.LockHolder) bool {
	return !h.Shared && h.Start == sys.LiveByte && h.Len == 1
}

// liveHeld reports whether some other open file description holds a lock
// on the liveness byte of fd's file: a process has the segment attached.
func liveHeld(fd int) bool {
	_, held, err := sys.TestLock(fd, sys.LiveByte, 1)
	return err == nil && held
}

// DeleteUnused deletes the tensor segment under name if no process uses it
// and, if want is not the zero FileID, if it is still the file want (the
// Info.ID of an earlier Stat or List): a segment replaced since is left
// alone. It is what "shmtensor gc --yes" does with each segment it found.
// In use means: a process holds it attached through this package (the
// liveness lock above, seen across PID namespaces), or one that /proc shows
// maps it (numpy, SharedArray and any other program count).
//
// The check and the removal are about one and the same file: DeleteUnused
// opens it, takes the liveness byte exclusively (which fails while any
// process has it attached, and keeps new attaches off until it is done),
// checks /proc, moves the name to a private one in the same directory,
// checks that what it moved is the file it checked and that /proc still
// shows no mapper, and only then unlinks it; anything else is put back.
//
// A segment in use is left alone with an error wrapping ErrInUse; one
// replaced under the name with an error wrapping ErrNotTensor (as Delete
// says), and one gone meanwhile with ErrNotExist. These are refusals, not
// failures: nothing was lost.
//
// What remains: a program that takes no liveness lock (numpy) and that
// opened the file before DeleteUnused moved the name but maps it only after
// the last /proc check keeps a valid mapping of a file that no longer has a
// name. As another user than root, /proc hides other users' processes, so
// their numpy mappers are not seen (their Attaches are). A segment the
// caller may not open for writing is tested with F_OFD_GETLK instead of
// locked, so an Attach between the test and the unlink is not kept off.
// Linux only: elsewhere it fails with ErrNotSupported.
func DeleteUnused(name string, want FileID) error {
	const op = "delete-unused"
	n, err := parseName(name)
	if err != nil {
		return &Error{Op: op, Name: name, Err: err}
	}
	if err := deleteUnused(n, want); err != nil {
		return &Error{Op: op, Name: n.name, Err: err}
	}
	return nil
}

func deleteUnused(n segName, want FileID) error {
	if !sys.LiveLocks {
		return fmt.Errorf("%w: no liveness lock or /proc to tell whether a segment is in use", ErrNotSupported)
	}
	f, err := openFile(n, true)
	exclusive := err == nil
	if errors.Is(err, ErrPermission) {
		f, err = openFile(n, false)
	}
	if err != nil {
		return err
	}
	defer f.close() // after the unlink: drops the exclusive lock
	if want != (FileID{}) && f.id != want {
		return fmt.Errorf("%w: the name holds another file than the one asked for (replaced since)", ErrNotTensor)
	}
	if _, err := readHeader(f); err != nil {
		return err
	}
	if err := claimDelete(f, exclusive); err != nil {
		return err
	}
	if err := unmapped(f); err != nil {
		return err
	}
	// Checked again on the file moved aside: mapped now, it goes back.
	f.lastCheck = func() error {
		if !exclusive && liveHeld(f.fd) {
			return fmt.Errorf("%w: attached by a process (it holds the segment's liveness lock)", ErrInUse)
		}
		return unmapped(f)
	}
	// Only f itself may go: a file that took the name since is given
	// its name back (and, if the name was taken again, left for the
	// leftover scan, which removes it once nothing uses it).
	return unlinkNamed(n, f, onlyValidated)
}

// onlyValidated accepts no file but the one validated: DeleteUnused
// removes the file it checked and nothing else.
func onlyValidated(*file) error { return errors.New("another file took the name since it was checked") }

// claimDelete takes the liveness byte of f exclusively (or, without write
// access, tests it), failing with ErrInUse while a process holds it.
func claimDelete(f *file, exclusive bool) error {
	if exclusive {
		err := sys.SetLock(f.fd, sys.LiveByte, 1, false, false)
		switch {
		case err == nil, errors.Is(err, ErrNotSupported):
			return nil // unsupported: /proc alone tells
		case err != sys.ErrWouldBlock:
			return err
		}
	}
	h, held, err := sys.TestLock(f.fd, sys.LiveByte, 1)
	switch {
	case errors.Is(err, ErrNotSupported):
		return nil
	case err != nil:
		return err
	case !held:
		return nil
	case isDeleter(h):
		return fmt.Errorf("%w: another process is deleting it", ErrInUse)
	}
	return fmt.Errorf("%w: attached by a process (it holds the segment's liveness lock)", ErrInUse)
}

// unmapped fails with ErrInUse if /proc shows a process mapping f, and
// with the scan's error if /proc cannot tell.
func unmapped(f *file) error {
	table, err := scanMappers(&f.id)
	if err != nil {
		return err
	}
	if pids := table[f.id]; len(pids) > 0 {
		return fmt.Errorf("%w: mapped by process %v", ErrInUse, pids)
	}
	return nil
}

// statLive returns the identity of the tensor segment under n and whether
// its liveness byte is held.
func statLive(n segName) (FileID, bool, error) {
	f, err := openFile(n, false)
	if err != nil {
		return FileID{}, false, err
	}
	defer f.close()
	if _, err := readHeader(f); err != nil {
		return FileID{}, false, err
	}
	return f.id, liveHeld(f.fd), nil
}
