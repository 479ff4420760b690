package sys

import "errors"

// ErrWouldBlock is what SetLock returns, without waiting, when a
// conflicting lock is held.
var ErrWouldBlock = errors.New("lock held elsewhere")
