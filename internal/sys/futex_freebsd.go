package sys

import (
	"context"
	"math"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// _umtx_op(2) operations in their shared forms (without _PRIVATE), which
// key on the memory object so that processes mapping it meet.
const (
	umtxOpWake     = 3  // UMTX_OP_WAKE
	umtxOpWaitUint = 11 // UMTX_OP_WAIT_UINT
)

// umtxTime is struct _umtx_time: a timeout relative to now unless flags
// says UMTX_ABSTIME.
type umtxTime struct {
	timeout unix.Timespec
	flags   uint32
	clockid uint32
}

func umtx(addr *uint32, op int, val uint32, ut *umtxTime) (int, syscall.Errno) {
	var size uintptr
	if ut != nil {
		size = unsafe.Sizeof(*ut)
	}
	r, _, errno := unix.Syscall6(unix.SYS__UMTX_OP, uintptr(unsafe.Pointer(addr)), uintptr(op), uintptr(val), size, uintptr(unsafe.Pointer(ut)), 0)
	return int(r), errno
}

// WaitWord sleeps while *addr == val, until WakeWord, ctx is done, or
// spuriously.
func WaitWord(ctx context.Context, addr *uint32, val uint32) error {
	return waitSleeping(ctx, addr, val, sleepWord, WakeWord)
}

// sleepWord sleeps in the kernel while *addr == val, until woken, for at
// most d if d > 0.
func sleepWord(addr *uint32, val uint32, d time.Duration) (sleepResult, error) {
	var ut *umtxTime
	if d > 0 {
		ut = &umtxTime{timeout: unix.NsecToTimespec(int64(d)), clockid: unix.CLOCK_MONOTONIC}
	}
	switch _, errno := umtx(addr, umtxOpWaitUint, val, ut); errno {
	case 0:
		return woken, nil
	case syscall.EINTR, syscall.ETIMEDOUT:
		return retry, nil
	default:
		return failure, errno
	}
}

// WakeWord wakes up to n waiters; FreeBSD does not say how many it woke.
func WakeWord(addr *uint32, n int) (int, error) {
	if _, errno := umtx(addr, umtxOpWake, uint32(min(n, math.MaxInt32)), nil); errno != 0 {
		return 0, errno
	}
	return 0, nil
}
