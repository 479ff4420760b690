//go:build linux || freebsd

package shmtensor

import (
	"context"
	"math"
	"sync/atomic"
	"syscall"
	"time"
)

// waitSlice bounds one sleep in the kernel when ctx can be cancelled: the
// wake-up that cancellation sends can miss a waiter that is just entering
// the kernel, and the timeout then still ends its sleep in time.
const waitSlice = 20 * time.Millisecond

// waitWord sleeps while *addr == val, until woken, ctx is done, or
// spuriously.
func waitWord(ctx context.Context, addr *uint32, val uint32) error {
	if atomic.LoadUint32(addr) != val {
		return nil
	}
	if ctx.Done() == nil {
		for {
			// The kernel compares *addr with val atomically with going to
			// sleep, so a change and Wake in between are not missed.
			switch errno := sleepWord(addr, val, 0); errno {
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
	// Cancellation wakes every waiter of the word, this one among them.
	stop := context.AfterFunc(ctx, func() { wakeWord(addr, math.MaxInt32) })
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
		errno := sleepWord(addr, val, d)
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
