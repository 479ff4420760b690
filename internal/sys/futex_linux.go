package sys

import (
	"context"
	"math"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// futex(2) operations without FUTEX_PRIVATE_FLAG: the kernel keys a shared
// futex on the mapped file and offset, so waiters and wakers in different
// processes meet, and on a private (heap) page it keys on the address.
const (
	futexWait = 0 // FUTEX_WAIT
	futexWake = 1 // FUTEX_WAKE
)

func futex(addr *uint32, op int, val uint32, ts *unix.Timespec) (int, syscall.Errno) {
	r, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), uintptr(op), uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
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
	var ts *unix.Timespec
	if d > 0 {
		t := unix.NsecToTimespec(int64(d)) // relative, as FUTEX_WAIT takes it
		ts = &t
	}
	switch _, errno := futex(addr, futexWait, val, ts); errno {
	case 0, syscall.EAGAIN: // EAGAIN: *addr != val already
		return woken, nil
	case syscall.EINTR, syscall.ETIMEDOUT:
		return retry, nil
	default:
		return failure, errno
	}
}

// WakeWord wakes up to n waiters of *addr and returns how many it woke.
func WakeWord(addr *uint32, n int) (int, error) {
	r, errno := futex(addr, futexWake, uint32(min(n, math.MaxInt32)), nil)
	if errno != 0 {
		return 0, errno
	}
	return r, nil
}
