//go:build !linux && !freebsd

package shmtensor

import (
	"context"
	"sync/atomic"
	"time"
)

// Without cgo, macOS offers no system call to sleep on a word of shared
// memory (its __ulock calls are private to libSystem), and other systems
// have none this package uses: waiters poll the word, sleeping from
// waitPollMin up to waitPollMax between looks.
const (
	waitPollMin = 50 * time.Microsecond
	waitPollMax = 5 * time.Millisecond
)

func waitWord(ctx context.Context, addr *uint32, val uint32) error {
	if atomic.LoadUint32(addr) != val {
		return nil
	}
	delay := waitPollMin
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
		delay = min(2*delay, waitPollMax)
		timer.Reset(delay)
	}
}

// wakeWord has no sleepers to wake: pollers see the change themselves.
func wakeWord(addr *uint32, n int) (int, error) { return 0, nil }
