//go:build !linux && !darwin && !freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

func LockFile(fd int) error                                   { return errs.ErrNotSupported }
func SetLock(fd int, start, n int64, shared, wait bool) error { return errs.ErrNotSupported }
func ClearLock(fd int, start, n int64) error                  { return errs.ErrNotSupported }
func LockHeld(fd int) (bool, error)                           { return false, errs.ErrNotSupported }

const LiveByte int64 = 1 << 62

// LiveLocks reports whether segments carry the lock on LiveByte.
const LiveLocks = false

type LockHolder struct {
	Start, Len int64
	Shared     bool
	PID        int
}

func MarkLive(fd int) error { return errs.ErrNotSupported }
func TestLock(fd int, start, n int64) (LockHolder, bool, error) {
	return LockHolder{}, false, errs.ErrNotSupported
}
