//go:build linux || freebsd

package sys

import (
	"context"
	"math"
	"sync/atomic"
	"time"
)

// waitSlice bounds one sleep in the kernel when ctx can be cancelled: the
// wake-up that cancellation sends can miss a waiter that is just entering
// the kernel, and the timeout then still ends its sleep in time.
const waitSlice = 20 * time.Millisecond

// sleepResult is what one sleep on a word in the kernel ended with.
type sleepResult uint8

const (
	woken   sleepResult = iota // woken, or the word no longer held the value
	retry                      // interrupted by a signal, or timed out
	failure                    // an error; see the error returned with it
)

// waitSleeping is WaitWord over a kernel sleep: sleep waits while *addr ==
// val for at most d (d == 0: no limit), wake wakes n waiters of addr.
func waitSleeping(ctx context.Context, addr *uint32, val uint32,
	sleep func(addr *uint32, val uint32, d time.Duration) (sleepResult, error),
	wake func(addr *uint32, n int) (int, error)) error {
	if atomic.LoadUint32(addr) != val {
		return nil
	}
	if ctx.Done() == nil {
		for {
			// The kernel compares *addr with val atomically with going to
			// sleep, so a change and wake in between are not missed.
			switch r, err := sleep(addr, val, 0); r {
			case woken:
				return nil
			case failure:
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Cancellation wakes every waiter of the word, this one among them.
	stop := context.AfterFunc(ctx, func() { wake(addr, math.MaxInt32) })
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
		r, err := sleep(addr, val, d)
		if err := ctx.Err(); err != nil {
			return err
		}
		switch r {
		case woken:
			return nil
		case failure:
			return err
		}
	}
}

// SleepWord sleeps while *addr == val, for at most d (> 0), until
// WakeWord or spuriously, without a context: the loop of a caller that
// wakes up regularly to look at something else allocates nothing.
func SleepWord(addr *uint32, val uint32, d time.Duration) error {
	if _, err := sleepWord(addr, val, d); err != nil {
		return err
	}
	return nil
}
