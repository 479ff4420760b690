package shmtensor

import (
	"errors"
	"io/fs"
)

// Sentinel errors. Every error returned by this package is an *Error that
// wraps one of these (or a system error such as syscall.ENOSPC), so callers
// test with errors.Is.
var (
	// ErrExist: Create found the name taken. It also matches fs.ErrExist.
	ErrExist error = &sentinel{"segment already exists", fs.ErrExist}
	// ErrNotExist: no segment of that name. It also matches fs.ErrNotExist.
	ErrNotExist error = &sentinel{"segment does not exist", fs.ErrNotExist}
	// ErrNotTensor: the object has no valid header: bad magic, truncated,
	// corrupt, or a foreign file, or it is not a regular file at all.
	ErrNotTensor = errors.New("not a tensor segment")
	// ErrDType: element type mismatch, or an element type this package
	// cannot view.
	ErrDType = errors.New("element type mismatch")
	// ErrShape: a shape that does not fit (negative, overflowing, or not
	// matching the data).
	ErrShape = errors.New("bad shape")
	// ErrIndex: an index out of range for its axis.
	ErrIndex = errors.New("index out of range")
	// ErrReadOnly: a write to a tensor mapped with ReadOnly.
	ErrReadOnly = errors.New("tensor is read-only")
	// ErrNotContiguous: the operation needs a memory layout the tensor
	// does not have.
	ErrNotContiguous = errors.New("tensor is not contiguous")
	// ErrClosed: the tensor's segment was closed.
	ErrClosed = errors.New("segment is closed")
	// ErrInvalidName: a name that is not shm://NAME, NAME or file://PATH.
	ErrInvalidName = errors.New("invalid segment name")
	// ErrLocked: TryLock found the lock held elsewhere.
	ErrLocked = errors.New("segment is locked")
	// ErrPermission: the caller may not use the segment (wrong owner,
	// permission bits). It also matches fs.ErrPermission.
	ErrPermission error = &sentinel{"permission denied", fs.ErrPermission}
	// ErrNotSupported: the operation is not available on this platform. It
	// also matches errors.ErrUnsupported.
	ErrNotSupported error = &sentinel{"not supported on this platform", errors.ErrUnsupported}
)

// sentinel is an error that also matches a standard library error under
// errors.Is, so ErrExist satisfies errors.Is(err, fs.ErrExist).
type sentinel struct {
	msg string
	std error
}

func (e *sentinel) Error() string        { return e.msg }
func (e *sentinel) Is(target error) bool { return target == e.std }

// Error records a failed operation on a named segment, in the manner of
// *fs.PathError: "shmtensor: attach shm://x: element type mismatch: ...".
type Error struct {
	Op   string // "create", "attach", "open", "view", "stat", "list", "delete", ...
	Name string // the segment name with its scheme, as the caller gave it
	Err  error  // the cause; wraps one of the sentinels or a system error
}

func (e *Error) Error() string {
	if e.Name == "" {
		return "shmtensor: " + e.Op + ": " + e.Err.Error()
	}
	return "shmtensor: " + e.Op + " " + e.Name + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// panicErr panics with an *Error of op wrapping sentinel, so that a
// recovered value can be tested with errors.Is and its message names the
// sentinel.
func panicErr(op string, sentinel error) {
	panic(&Error{Op: op, Err: sentinel})
}
