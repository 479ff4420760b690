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

// waitSlice bounds one sleep in the kernel when ctx can be cancelled (see
// wait_linux.go).
const waitSlice = 20 * time.Millisecond

func umtx(addr *uint32, op int, val uint32, ut *umtxTime) (int, syscall.Errno) {
	var size uintptr
	if ut != nil {
		size = unsafe.Sizeof(*ut)
	}
	r, _, errno := unix.Syscall6(unix.SYS__UMTX_OP, uintptr(unsafe.Pointer(addr)), uintptr(op), uintptr(val), size, uintptr(unsafe.Pointer(ut)), 0)
	return int(r), errno
}

func waitWord(ctx context.Context, addr *uint32, val uint32) error {
	if atomic.LoadUint32(addr) != val {
		return nil
	}
	if ctx.Done() == nil {
		for {
			switch _, errno := umtx(addr, umtxOpWaitUint, val, nil); errno {
			case 0:
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
	stop := context.AfterFunc(ctx, func() { umtx(addr, umtxOpWake, math.MaxInt32, nil) })
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
		ut := umtxTime{timeout: unix.NsecToTimespec(int64(d)), clockid: unix.CLOCK_MONOTONIC}
		_, errno := umtx(addr, umtxOpWaitUint, val, &ut)
		if err := ctx.Err(); err != nil {
			return err
		}
		switch errno {
		case 0:
			return nil
		case syscall.EINTR, syscall.ETIMEDOUT:
			continue
		default:
			return errno
		}
	}
}

// wakeWord wakes up to n waiters; FreeBSD does not say how many it woke.
func wakeWord(addr *uint32, n int) (int, error) {
	if _, errno := umtx(addr, umtxOpWake, uint32(min(n, math.MaxInt32)), nil); errno != 0 {
		return 0, errno
	}
	return 0, nil
}
