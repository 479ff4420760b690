//go:build linux

package shmtensor

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
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
