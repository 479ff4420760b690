//go:build !linux && !darwin && !freebsd

package sys

import "errors"

var (
	EACCES       = errors.New("EACCES")
	EBADF        = errors.New("EBADF")
	EEXIST       = errors.New("EEXIST")
	EISDIR       = errors.New("EISDIR")
	ELOOP        = errors.New("ELOOP")
	ENAMETOOLONG = errors.New("ENAMETOOLONG")
	ENOENT       = errors.New("ENOENT")
	ENOMEM       = errors.New("ENOMEM")
	ENOSPC       = errors.New("ENOSPC")
	ENXIO        = errors.New("ENXIO")
	EPERM        = errors.New("EPERM")
)

func ErrnoName(err error) (string, bool) { return "", false }
