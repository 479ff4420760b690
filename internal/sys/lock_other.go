//go:build !linux && !darwin && !freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

func LockFile(fd int) error                                   { return errs.ErrNotSupported }
func SetLock(fd int, start, n int64, shared, wait bool) error { return errs.ErrNotSupported }
func ClearLock(fd int, start, n int64) error                  { return errs.ErrNotSupported }
func LockHeld(fd int) (bool, error)                           { return false, errs.ErrNotSupported }
