// Package errs declares the sentinel errors shared by shmtensor and the
// internal packages below it. The root package re-exports each one under the
// same name (as os re-exports io/fs's), so that a codec or kernel can return
// ErrShape without importing the package that wraps its errors.
package errs

import (
	"errors"
	"io/fs"
)

// The sentinels; their documentation is the root package's.
var (
	ErrExist         error = &sentinel{"segment already exists", fs.ErrExist}
	ErrNotExist      error = &sentinel{"segment does not exist", fs.ErrNotExist}
	ErrNotTensor           = errors.New("not a tensor segment")
	ErrDType               = errors.New("element type mismatch")
	ErrShape               = errors.New("bad shape")
	ErrIndex               = errors.New("index out of range")
	ErrReadOnly            = errors.New("tensor is read-only")
	ErrNotContiguous       = errors.New("tensor is not contiguous")
	ErrClosed              = errors.New("segment is closed")
	ErrInvalidName         = errors.New("invalid segment name")
	ErrLocked              = errors.New("segment is locked")
	ErrInUse               = errors.New("segment is in use")
	ErrPermission    error = &sentinel{"permission denied", fs.ErrPermission}
	ErrNotSupported  error = &sentinel{"not supported on this platform", errors.ErrUnsupported}

	ErrProducerGone       = errors.New("the channel's producer is gone")
	ErrOverrun            = errors.New("message overwritten while it was read")
	ErrTooManySubscribers = errors.New("every subscriber entry of the channel is taken")
)

// sentinel is an error that also matches a standard library error under
// errors.Is, so ErrExist satisfies errors.Is(err, fs.ErrExist).
type sentinel struct {
	msg string
	std error
}

func (e *sentinel) Error() string        { return e.msg }
func (e *sentinel) Is(target error) bool { return target == e.std }

// Explain returns an error with its own message that matches each of errs
// under errors.Is, for causes a sentinel's message would misdescribe or
// repeat: "permission denied (EACCES)" instead of "permission denied:
// permission denied".
func Explain(msg string, errs ...error) error { return &explained{msg, errs} }

type explained struct {
	msg  string
	errs []error
}

func (e *explained) Error() string   { return e.msg }
func (e *explained) Unwrap() []error { return e.errs }
