//go:build linux

package shmtensor

// Locks leak neither descriptors nor goroutines.

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// openFDs counts this process's open descriptors of the file at path: a
// segment's and its locks'. Others are left out, since earlier tests may
// still be closing theirs (in the background, or by a finalizer).
func openFDs(t *testing.T, path string) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.TrimSuffix(target, " (deleted)") == path {
			n++
		}
	}
	return n
}

// settledGoroutines waits a little for goroutines that are ending to end,
// then counts them.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100 && n > want; i++ {
		time.Sleep(10 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	return n
}

func TestLockNoLeaks(t *testing.T) {
	a, b := twoAttaches(t, 16, 4)
	path := "/dev/shm/" + strings.TrimPrefix(a.Name(), "shm://")
	ctx := context.Background()
	cycles := 100_000
	if testing.Short() {
		cycles = 10_000
	}
	cycle := func(i int) {
		var u func()
		var err error
		switch i % 5 {
		case 0:
			u, err = a.Lock(ctx)
		case 1:
			u, err = b.RLock(ctx)
		case 2:
			u, err = a.TryLock()
		case 3:
			u, err = b.LockRows(ctx, i%16, i%16+1)
		case 4:
			u, err = a.RLockRows(ctx, 0, i%16+1)
		}
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		u()
		if i%2 == 0 {
			u()
		}
	}
	// Idle descriptors are kept for reuse, a few per segment: count after
	// a first round has made them.
	for i := range 10 {
		cycle(i)
	}
	fds, gs := openFDs(t, path), runtime.NumGoroutine()
	for i := range cycles {
		cycle(i)
	}
	// Failed attempts and cancelled waits leave nothing behind either.
	u := mustLock(t, "holder")(a.Lock(ctx))
	for i := range 300 {
		switch i % 3 {
		case 0:
			if _, err := b.TryLock(); !errors.Is(err, ErrLocked) {
				t.Fatal(err)
			}
		case 1:
			c, cancel := context.WithTimeout(ctx, time.Millisecond)
			if _, err := b.RLock(c); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatal(err)
			}
			cancel()
		case 2:
			c, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := b.LockRows(c, 0, 1); !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
		}
	}
	u()
	if now := openFDs(t, path); now != fds {
		t.Errorf("%d descriptors open after %d lock cycles, %d before", now, cycles, fds)
	}
	if now := settledGoroutines(gs); now > gs {
		t.Errorf("%d goroutines after %d lock cycles, %d before", now, cycles, gs)
	}
	// Close closes them all.
	a.Close()
	b.Close()
	if now := openFDs(t, path); now != 0 {
		t.Errorf("%d descriptors of the segment open after Close", now)
	}
}
