//go:build !linux && !freebsd

package sys

import (
	"context"
	"sync/atomic"
	"time"
)

// Without a system call to sleep on a word of shared memory (macOS's
// __ulock calls are private to libSystem, and this package uses no cgo),
// waiters poll the word, sleeping from pollMin up to pollMax between looks.
const (
	pollMin = 50 * time.Microsecond
	pollMax = 5 * time.Millisecond
)

// waitPolling is WaitWord by polling.
func waitPolling(ctx context.Context, addr *uint32, val uint32) error {
	if atomic.LoadUint32(addr) != val {
		return nil
	}
	delay := pollMin
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
		if atomic.LoadUint32(addr) != val {
			return nil
		}
		delay = min(2*delay, pollMax)
		timer.Reset(delay)
	}
}

// SleepWord polls *addr for at most d, looking every pollMin.
func SleepWord(addr *uint32, val uint32, d time.Duration) error {
	for d > 0 && atomic.LoadUint32(addr) == val {
		s := min(d, pollMin)
		time.Sleep(s)
		d -= s
	}
	return nil
}
