package shmtensor

import (
	"context"
	"math"
	"sync/atomic"
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

// waitSlice bounds one sleep in the kernel when ctx can be cancelled: the
// wake-up that cancellation sends can miss a waiter that is just entering
// the kernel, and the timeout then still ends its sleep in time.
const waitSlice = 20 * time.Millisecond

func futex(addr *uint32, op int, val uint32, ts *unix.Timespec) (int, syscall.Errno) {
	r, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), uintptr(op), uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
	return int(r), errno
}

// waitWord sleeps while *addr == val, until woken, ctx is done, or
// spuriously.
func waitWord(ctx context.Context, addr *uint32, val uint32) error {
	if atomic.LoadUint32(addr) != val {
		return nil
	}
	if ctx.Done() == nil {
		for {
			// FUTEX_WAIT compares *addr with val atomically with going to
			// sleep, so a change and Wake in between are not missed.
			switch _, errno := futex(addr, futexWait, val, nil); errno {
			case 0, syscall.EAGAIN:
				return nil
			case syscall.EINTR:
				continue
			default:
				return errno
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Cancellation wakes every waiter of the word, this one among them.
	stop := context.AfterFunc(ctx, func() { futex(addr, futexWake, math.MaxInt32, nil) })
	defer stop()
	for {
		d := waitSlice
		if dl, ok := ctx.Deadline(); ok {
			left := time.Until(dl)
			if left <= 0 {
				return context.DeadlineExceeded
			}
			d = min(d, left)
		}
		ts := unix.NsecToTimespec(int64(d)) // relative, as FUTEX_WAIT takes it
		_, errno := futex(addr, futexWait, val, &ts)
		if err := ctx.Err(); err != nil {
			return err
		}
		switch errno {
		case 0, syscall.EAGAIN:
			return nil
		case syscall.EINTR, syscall.ETIMEDOUT:
			continue
		default:
			return errno
		}
	}
}

// wakeWord wakes up to n waiters of *addr and returns how many it woke.
func wakeWord(addr *uint32, n int) (int, error) {
	r, errno := futex(addr, futexWake, uint32(min(n, math.MaxInt32)), nil)
	if errno != 0 {
		return 0, errno
	}
	return r, nil
}
