package shmtensor

import "github.com/shmtensor/shmtensor/internal/errs"

// Sentinel errors. Every error returned by this package is an *Error that
// wraps one of these (or a system error such as syscall.ENOSPC), so callers
// test with errors.Is.
var (
	// ErrExist reports that Create or Import found the name taken. It also
	// matches fs.ErrExist.
	ErrExist = errs.ErrExist
	// ErrNotExist reports that no segment has the name. It also matches
	// fs.ErrNotExist.
	ErrNotExist = errs.ErrNotExist
	// ErrNotTensor reports an object or stream without a valid header: bad
	// magic, truncated, corrupt, a foreign file, or not a regular file.
	ErrNotTensor = errs.ErrNotTensor
	// ErrDType reports an element type mismatch, or an element type this
	// package cannot view or does not know.
	ErrDType = errs.ErrDType
	// ErrShape reports a shape that does not fit: negative, overflowing,
	// not matching the data, or the wrong number of dimensions or axes.
	ErrShape = errs.ErrShape
	// ErrIndex reports an index out of range for its axis, or the wrong
	// number of indices.
	ErrIndex = errs.ErrIndex
	// ErrReadOnly reports a write to a tensor mapped with ReadOnly.
	ErrReadOnly = errs.ErrReadOnly
	// ErrNotContiguous reports that the operation needs a memory layout the
	// tensor does not have.
	ErrNotContiguous = errs.ErrNotContiguous
	// ErrClosed reports the use of a closed segment or of a tensor over one.
	ErrClosed = errs.ErrClosed
	// ErrInvalidName reports a name that is not shm://NAME, NAME or
	// file://PATH, or not a valid one.
	ErrInvalidName = errs.ErrInvalidName
	// ErrLocked reports that TryLock found the lock held elsewhere.
	ErrLocked = errs.ErrLocked
	// ErrInUse reports that DeleteUnused or RemoveLeftover found the file
	// attached, mapped, held open or locked by a process, and left it alone.
	ErrInUse = errs.ErrInUse
	// ErrPermission reports that the caller may not use the segment (wrong
	// owner, permission bits). It also matches fs.ErrPermission.
	ErrPermission = errs.ErrPermission
	// ErrNotSupported reports an operation that is not available on this
	// platform. It also matches errors.ErrUnsupported.
	ErrNotSupported = errs.ErrNotSupported

	// ErrProducerGone reports that a channel has no live producer: Next
	// returns it, once every message sent before the producer died has been
	// delivered, until a new producer takes the channel over (AttachProducer).
	ErrProducerGone = errs.ErrProducerGone
	// ErrOverrun reports that, in a channel of the Latest policy, the
	// producer overwrote a message while a subscriber held it: what was read
	// from it may be torn.
	ErrOverrun = errs.ErrOverrun
	// ErrTooManySubscribers reports that Subscribe found every entry of the
	// channel's subscriber table held by a live subscriber.
	ErrTooManySubscribers = errs.ErrTooManySubscribers
)

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

// explain is errs.Explain: a message of its own that matches each of causes.
func explain(msg string, causes ...error) error { return errs.Explain(msg, causes...) }
