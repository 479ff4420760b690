package shmtensor

import (
	"errors"
	"io/fs"
)

// Sentinel errors. Every error returned by this package is an *Error that
// wraps one of these (or a system error such as syscall.ENOSPC), so callers
// test with errors.Is.
var (
	// ErrExist reports that Create or Import found the name taken. It also
	// matches fs.ErrExist.
	ErrExist error = &sentinel{"segment already exists", fs.ErrExist}
	// ErrNotExist reports that no segment has the name. It also matches
	// fs.ErrNotExist.
	ErrNotExist error = &sentinel{"segment does not exist", fs.ErrNotExist}
	// ErrNotTensor reports an object or stream without a valid header: bad
	// magic, truncated, corrupt, a foreign file, or not a regular file.
	ErrNotTensor = errors.New("not a tensor segment")
	// ErrDType reports an element type mismatch, or an element type this
	// package cannot view or does not know.
	ErrDType = errors.New("element type mismatch")
	// ErrShape reports a shape that does not fit: negative, overflowing,
	// not matching the data, or the wrong number of dimensions or axes.
	ErrShape = errors.New("bad shape")
	// ErrIndex reports an index out of range for its axis, or the wrong
	// number of indices.
	ErrIndex = errors.New("index out of range")
	// ErrReadOnly reports a write to a tensor mapped with ReadOnly.
	ErrReadOnly = errors.New("tensor is read-only")
	// ErrNotContiguous reports that the operation needs a memory layout the
	// tensor does not have.
	ErrNotContiguous = errors.New("tensor is not contiguous")
	// ErrClosed reports the use of a closed segment or of a tensor over one.
	ErrClosed = errors.New("segment is closed")
	// ErrInvalidName reports a name that is not shm://NAME, NAME or
	// file://PATH, or not a valid one.
	ErrInvalidName = errors.New("invalid segment name")
	// ErrLocked reports that TryLock found the lock held elsewhere.
	ErrLocked = errors.New("segment is locked")
	// ErrPermission reports that the caller may not use the segment (wrong
	// owner, permission bits). It also matches fs.ErrPermission.
	ErrPermission error = &sentinel{"permission denied", fs.ErrPermission}
	// ErrNotSupported reports an operation that is not available on this
	// platform. It also matches errors.ErrUnsupported.
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

// Error returns "shmtensor: OP NAME: CAUSE", or "shmtensor: OP: CAUSE"
// without a name.
func (e *Error) Error() string {
	if e.Name == "" {
		return "shmtensor: " + e.Op + ": " + e.Err.Error()
	}
	return "shmtensor: " + e.Op + " " + e.Name + ": " + e.Err.Error()
}

// Unwrap returns the cause, e.Err, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// panicErr panics with an *Error of op wrapping sentinel, so that a
// recovered value can be tested with errors.Is and its message names the
// sentinel.
func panicErr(op string, sentinel error) {
	panic(&Error{Op: op, Err: sentinel})
}

// explained is an error with its own message that matches each of errs
// under errors.Is, for causes a sentinel's message would misdescribe or
// repeat: "permission denied (EACCES)" instead of "permission denied:
// permission denied".
type explained struct {
	msg  string
	errs []error
}

func explain(msg string, errs ...error) error { return &explained{msg, errs} }

func (e *explained) Error() string   { return e.msg }
func (e *explained) Unwrap() []error { return e.errs }
