//go:build linux

package shmtensor

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// twoAttaches creates an int32 segment of the given shape and attaches it a
// second time: two segments of one file in this process.
func twoAttaches(t *testing.T, shape ...int) (a, b *Segment) {
	t.Helper()
	name := uniqueName(t)
	ta, err := Create[int32](name, shape)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ta.Close() })
	tb, err := Attach[int32](name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	return ta.Segment(), tb.Segment()
}

// blocked asserts that f, given a context that expires soon, fails with
// context.DeadlineExceeded: the lock it asks for is held elsewhere.
func blocked(t *testing.T, what string, f func(context.Context) (func(), error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Millisecond)
	defer cancel()
	unlock, err := f(ctx)
	if err == nil {
		unlock()
		t.Fatalf("%s: got the lock, want it refused while held elsewhere", what)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: %v, want context.DeadlineExceeded", what, err)
	}
}

func mustLock(t *testing.T, what string) func(unlock func(), err error) func() {
	return func(unlock func(), err error) func() {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return unlock
	}
}

func TestLockExcludesGoroutinesAndAttaches(t *testing.T) {
	a, b := twoAttaches(t, 4, 8)
	ctx := context.Background()
	unlock := mustLock(t, "Lock")(a.Lock(ctx))
	// The same segment and another attach of it in this process are both
	// excluded: each lock has a description of its own.
	for _, s := range []*Segment{a, b} {
		if _, err := s.TryLock(); !errors.Is(err, ErrLocked) {
			t.Fatalf("TryLock while locked: %v, want ErrLocked", err)
		}
		blocked(t, "RLock while locked", s.RLock)
		blocked(t, "LockRows while locked", func(ctx context.Context) (func(), error) { return s.LockRows(ctx, 3, 4) })
	}
	unlock()
	unlock = mustLock(t, "TryLock after unlock")(b.TryLock())
	unlock()

	// Shared locks coexist and exclude exclusive ones.
	r1 := mustLock(t, "RLock a")(a.RLock(ctx))
	r2 := mustLock(t, "RLock b")(b.RLock(ctx))
	r3 := mustLock(t, "RLock a again")(a.RLock(ctx))
	if _, err := b.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock under shared locks: %v, want ErrLocked", err)
	}
	r1()
	r2()
	if _, err := b.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock under one shared lock: %v, want ErrLocked", err)
	}
	r3()
	mustLock(t, "TryLock at last")(a.TryLock())()
}

func TestLockRowsDisjoint(t *testing.T) {
	a, b := twoAttaches(t, 6, 5)
	ctx := context.Background()
	u1 := mustLock(t, "rows 0:2")(a.LockRows(ctx, 0, 2))
	u2 := mustLock(t, "rows 2:4")(b.LockRows(ctx, 2, 4))
	u3 := mustLock(t, "shared rows 4:6")(a.RLockRows(ctx, 4, 6))
	u4 := mustLock(t, "shared rows 5:6")(b.RLockRows(ctx, 5, 6))
	blocked(t, "rows 1:3", func(ctx context.Context) (func(), error) { return b.LockRows(ctx, 1, 3) })
	blocked(t, "shared rows 3:4", func(ctx context.Context) (func(), error) { return a.RLockRows(ctx, 3, 4) })
	blocked(t, "rows 5:6", func(ctx context.Context) (func(), error) { return a.LockRows(ctx, 5, 6) })
	blocked(t, "whole RLock", b.RLock)
	if _, err := b.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock under row locks: %v", err)
	}
	u1()
	u2()
	u3()
	u4()
	mustLock(t, "Lock after row unlocks")(b.TryLock())()
}

// TestLockRowsByteRanges checks the bytes each lock covers against a
// fcntl(F_OFD_GETLK) probe, which is what a Python or C process sees: the
// recipe in docs/coordination.md depends on these ranges.
func TestLockRowsByteRanges(t *testing.T) {
	a, _ := twoAttaches(t, 6, 5) // int32: 20 bytes a row, data at 4096
	probe, err := unix.Open("/dev/shm/"+a.Name()[len("shm://"):], unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(probe)
	lockedAt := func(off int64) bool {
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: off, Len: 1}
		if err := unix.FcntlFlock(uintptr(probe), unix.F_OFD_GETLK, &lk); err != nil {
			t.Fatal(err)
		}
		return lk.Type != unix.F_UNLCK
	}
	check := func(what string, lo, hi int64) {
		t.Helper()
		for _, off := range []int64{0, 4095, lo - 1, lo, hi - 1, hi, 4096 + 120, 1 << 20} {
			if want := off >= lo && off < hi; lockedAt(off) != want {
				t.Fatalf("%s: byte %d locked = %v, want %v (lock covers [%d, %d))", what, off, !want, want, lo, hi)
			}
		}
	}
	u := mustLock(t, "rows 2:4")(a.LockRows(context.Background(), 2, 4))
	check("rows 2:4", 4096+2*20, 4096+4*20)
	u()
	u = mustLock(t, "Lock")(a.Lock(context.Background()))
	check("Lock", 4096, 4096+6*20)
	u()
	if lockedAt(4096) {
		t.Fatal("a byte stays locked after unlock")
	}
}

// TestLockRowsFortran: rows of a Fortran-order array are spread over the
// data, so row locks there cover all of it and conflict with each other.
func TestLockRowsFortran(t *testing.T) {
	h, err := newHeader(NPY, Int32, []int{6, 5}, true)
	if err != nil {
		t.Fatal(err)
	}
	hdr := encodeNPYHeader(h, npyDataOffset)
	path := filepath.Join(t.TempDir(), "f.npy")
	if err := os.WriteFile(path, append(hdr, make([]byte, 6*5*4)...), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := Open("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !a.Fortran() {
		t.Fatal("segment not in Fortran order")
	}
	u := mustLock(t, "rows 0:1")(a.LockRows(context.Background(), 0, 1))
	blocked(t, "rows 5:6 of a Fortran array", func(ctx context.Context) (func(), error) { return b.RLockRows(ctx, 5, 6) })
	u()
	mustLock(t, "rows 5:6 after unlock")(b.LockRows(context.Background(), 5, 6))()
}

func TestLockErrors(t *testing.T) {
	a, _ := twoAttaches(t, 3, 2)
	ctx := context.Background()
	for _, r := range [][2]int{{-1, 1}, {2, 1}, {0, 4}, {4, 4}} {
		if _, err := a.LockRows(ctx, r[0], r[1]); !errors.Is(err, ErrIndex) {
			t.Errorf("LockRows(%d, %d): %v, want ErrIndex", r[0], r[1], err)
		}
	}
	// An empty range locks nothing.
	u := mustLock(t, "LockRows(1, 1)")(a.LockRows(ctx, 1, 1))
	mustLock(t, "Lock beside an empty row lock")(a.TryLock())()
	u()

	name := uniqueName(t)
	s, err := Create[float64](name, nil) // 0-d: no rows
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Segment().RLockRows(ctx, 0, 1); !errors.Is(err, ErrIndex) {
		t.Errorf("RLockRows on a 0-d segment: %v, want ErrIndex", err)
	}
	mustLock(t, "Lock on a 0-d segment")(s.Segment().Lock(ctx))()

	// Read-only attachers take shared locks, not exclusive ones.
	ro, err := Open(a.Name(), ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Lock(ctx); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Lock on a read-only segment: %v, want ErrReadOnly", err)
	}
	if _, err := ro.LockRows(ctx, 0, 1); !errors.Is(err, ErrReadOnly) {
		t.Errorf("LockRows on a read-only segment: %v, want ErrReadOnly", err)
	}
	u = mustLock(t, "RLock on a read-only segment")(ro.RLock(ctx))
	if _, err := a.TryLock(); !errors.Is(err, ErrLocked) {
		t.Errorf("a read-only attacher's shared lock does not exclude: %v", err)
	}
	u()
	mustLock(t, "RLockRows on a read-only segment")(ro.RLockRows(ctx, 1, 3))()

	ro.Close()
	if _, err := ro.RLock(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("RLock after Close: %v, want ErrClosed", err)
	}
	if _, err := ro.RLockRows(ctx, 1, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("RLockRows of no rows after Close: %v, want ErrClosed", err)
	}
	var e *Error
	if _, err := a.LockRows(ctx, 0, 9); !errors.As(err, &e) || e.Op != "lock rows" || e.Name != a.Name() {
		t.Errorf("error %#v does not name the operation and segment", err)
	}
}

func TestUnlockTwiceIsNoOp(t *testing.T) {
	a, b := twoAttaches(t, 2, 2)
	u1 := mustLock(t, "first")(a.Lock(context.Background()))
	u1()
	// The second lock likely gets the first one's descriptor number: a
	// second call of the first unlock must not release it.
	u2 := mustLock(t, "second")(a.Lock(context.Background()))
	u1()
	if _, err := b.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("a second call of an old unlock released a newer lock: %v", err)
	}
	u2()
	u2()
	mustLock(t, "after")(b.TryLock())()
}

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

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
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
	before := openFDs(t)
	a, b := twoAttaches(t, 16, 4)
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
	fds, gs := openFDs(t), runtime.NumGoroutine()
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
	if now := openFDs(t); now != fds {
		t.Errorf("%d descriptors open after %d lock cycles, %d before", now, cycles, fds)
	}
	if now := settledGoroutines(gs); now > gs {
		t.Errorf("%d goroutines after %d lock cycles, %d before", now, cycles, gs)
	}
	// Close closes them all.
	a.Close()
	b.Close()
	if now := openFDs(t); now != before {
		t.Errorf("%d descriptors open after Close, %d before the segments were opened", now, before)
	}
}

// TestLockDescriptorIsTheMappedFile: a lock is taken on the file mapped,
// not on whatever the name refers to now.
func TestLockDescriptorIsTheMappedFile(t *testing.T) {
	a, _ := twoAttaches(t, 2, 2)
	name := a.Name()[len("shm://"):]
	// Replace the name by another segment: the old one's locks still work
	// and do not touch the new file.
	if err := os.Remove("/dev/shm/" + name); err != nil {
		t.Fatal(err)
	}
	n, err := Create[int32](name, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	u := mustLock(t, "Lock on an unlinked segment")(a.Lock(context.Background()))
	defer u()
	mustLock(t, "Lock on the new segment under the name")(n.Segment().TryLock())()
}

// TestLockUnpublished: a segment that has no name yet can be locked (its
// descriptor is reopened, not its name), and the lock stays on the file
// once it is published.
func TestLockUnpublished(t *testing.T) {
	name := uniqueName(t)
	x, err := Create[int64](name, []int{4, 4}, Unpublished())
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	s := x.Segment()
	u := mustLock(t, "LockRows on an unpublished segment")(s.LockRows(context.Background(), 0, 2))
	if _, err := s.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock beside a row lock of an unpublished segment: %v", err)
	}
	if err := s.Publish(); err != nil {
		t.Fatal(err)
	}
	other, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("the lock taken before Publish does not hold after it: %v", err)
	}
	mustLock(t, "rows beside it")(other.LockRows(context.Background(), 2, 4))()
	u()
	mustLock(t, "after unlock")(other.TryLock())()
}
