//go:build linux || darwin || freebsd

package sys

import (
	"errors"

	"golang.org/x/sys/unix"
)

// The system errors the callers tell apart, as this package returns them,
// for errors.Is; on the other systems they are errors nothing returns.
var (
	EACCES       error = unix.EACCES
	EBADF        error = unix.EBADF
	EEXIST       error = unix.EEXIST
	EISDIR       error = unix.EISDIR
	ELOOP        error = unix.ELOOP
	ENAMETOOLONG error = unix.ENAMETOOLONG
	ENOENT       error = unix.ENOENT
	ENOMEM       error = unix.ENOMEM
	ENOSPC       error = unix.ENOSPC
	ENXIO        error = unix.ENXIO
	EPERM        error = unix.EPERM
)

// ErrnoName returns the C name of the system error in err's chain
// ("EACCES"), if there is one.
func ErrnoName(err error) (string, bool) {
	var e unix.Errno
	if !errors.As(err, &e) {
		return "", false
	}
	return unix.ErrnoName(e), true
}
