//go:build linux

package shmtensor

// Waiting for a lock: contexts, the kernel's blocking wait, and Close
// of a holder or a waiter.

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCloseReleasesLocks(t *testing.T) {
	a, b := twoAttaches(t, 2, 2)
	u := mustLock(t, "LockRows")(a.LockRows(context.Background(), 0, 1))
	mustLock(t, "RLockRows")(a.RLockRows(context.Background(), 1, 2))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	mustLock(t, "Lock after the holder's Close")(b.TryLock())()
	u() // after Close: a no-op, and must not close someone else's descriptor
	mustLock(t, "Lock again")(b.TryLock())()
}

// TestCloseEndsWaiting: a waiter polling for a lock returns ErrClosed when
// its segment is closed, and holds nothing afterwards.
func TestCloseEndsWaiting(t *testing.T) {
	a, b := twoAttaches(t, 2, 2)
	u := mustLock(t, "Lock")(a.Lock(context.Background()))
	defer u()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() {
		_, err := b.Lock(ctx)
		done <- err
	}()
	waitPollingLockers(t, 1)
	b.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Lock waiting on a segment being closed: %v, want ErrClosed", err)
	}
}

func TestLockContext(t *testing.T) {
	a, b := twoAttaches(t, 2, 2)
	u := mustLock(t, "Lock")(a.Lock(context.Background()))
	defer u()
	for _, kind := range []string{"cancel", "deadline"} {
		const after = 30 * time.Millisecond
		start := time.Now()
		var ctx context.Context
		var cancel context.CancelFunc
		if kind == "cancel" {
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(after, cancel)
		} else {
			ctx, cancel = context.WithTimeout(context.Background(), after)
		}
		_, err := b.LockRows(ctx, 0, 1)
		late := time.Since(start) - after
		cancel()
		if !errors.Is(err, ctx.Err()) {
			t.Fatalf("%s: %v, want %v", kind, err, ctx.Err())
		}
		// Logged, not asserted: the machine may be loaded.
		t.Logf("%s: Lock returned %v after the context was done", kind, late)
	}
	// A context done before the call fails at once, even when the lock is
	// free.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.RLockRows(ctx, 1, 2); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

// TestLockBlockingWaiter: with a context that is never done the waiter
// sleeps in the kernel (F_OFD_SETLKW) and gets the lock once it is freed,
// not before.
func TestLockBlockingWaiter(t *testing.T) {
	a, b := twoAttaches(t, 2, 2)
	u := mustLock(t, "Lock")(a.Lock(context.Background()))
	got := make(chan func())
	go func() {
		u, err := b.Lock(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	waitBlockedLockers(t, pathOfName(t, b.Name()), 1)
	select {
	case <-got:
		t.Fatal("the waiter got the lock while it was held")
	default:
	}
	u()
	(<-got)()
}
