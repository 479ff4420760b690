//go:build linux

package shmtensor

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// recovered runs f and returns what it panicked with, or nil.
func recovered(f func()) (r any) {
	defer func() { r = recover() }()
	f()
	return nil
}

func testAtomicOps[T Atomic](t *testing.T) {
	name := uniqueName(t)
	s, err := Create[T](name, []int{3, 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, x := range []*Tensor[T]{New[T](3, 4), s} {
		AtomicStore(x, 7, 1, 2)
		if got := AtomicLoad(x, 1, 2); got != 7 || x.At(1, 2) != 7 {
			t.Fatalf("%T: store 7, load %v, At %v", x, got, x.At(1, 2))
		}
		if got := AtomicAdd(x, 5, 1, 2); got != 12 {
			t.Fatalf("add 5 to 7 gives %v", got)
		}
		var minus1 T
		minus1-- // -1, or the largest value of an unsigned type
		if got := AtomicAdd(x, minus1, 1, 2); got != 11 {
			t.Fatalf("add -1 to 12 gives %v", got)
		}
		if AtomicCompareAndSwap(x, 10, 1, 1, 2) || x.At(1, 2) != 11 {
			t.Fatal("compare-and-swap with a wrong old value swapped")
		}
		if !AtomicCompareAndSwap(x, 11, 1, 1, 2) || x.At(1, 2) != 1 {
			t.Fatal("compare-and-swap with the right old value did not swap")
		}
		// Through views: the same elements as At sees.
		tr, _ := x.Transpose()
		sl, _ := x.Slice(Span(1, 3), Every(-2))
		AtomicStore(tr, 42, 3, 0)
		if x.At(0, 3) != 42 {
			t.Fatal("AtomicStore through a transposed view missed its element")
		}
		AtomicAdd(sl, 1, 0, 1) // x[1, 1]
		if x.At(1, 1) != 1 || AtomicLoad(sl, 1, 0) != x.At(2, 3) {
			t.Fatal("atomic operations through a strided view missed their elements")
		}
	}
	// Bad indices panic exactly as At does.
	for _, idx := range [][]int{{3, 0}, {0, -1}, {1}, {0, 0, 0}} {
		want := fmt.Sprint(recovered(func() { s.At(idx...) }))
		for op, f := range map[string]func(){
			"load":  func() { AtomicLoad(s, idx...) },
			"store": func() { AtomicStore(s, 1, idx...) },
			"add":   func() { AtomicAdd(s, 1, idx...) },
			"cas":   func() { AtomicCompareAndSwap(s, 0, 1, idx...) },
		} {
			if got := fmt.Sprint(recovered(f)); got != want {
				t.Errorf("%s at %v panics with %q, At with %q", op, idx, got, want)
			}
		}
	}
	// Read-only: loads only.
	ro, err := Attach[T](name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	if AtomicLoad(ro, 0, 3) != 42 {
		t.Fatal("read-only load")
	}
	for op, f := range map[string]func(){
		"store": func() { AtomicStore(ro, 1, 0, 0) },
		"add":   func() { AtomicAdd(ro, 1, 0, 0) },
		"cas":   func() { AtomicCompareAndSwap(ro, 0, 1, 0, 0) },
	} {
		if err, _ := recovered(f).(error); !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on a read-only tensor panics with %v, want ErrReadOnly", op, err)
		}
	}
	ro.Close()
	for op, f := range map[string]func(){
		"load": func() { AtomicLoad(ro, 0, 0) },
		"add":  func() { AtomicAdd(ro, 1, 0, 0) },
	} {
		if err, _ := recovered(f).(error); !errors.Is(err, ErrClosed) {
			t.Errorf("%s on a closed tensor panics with %v, want ErrClosed", op, err)
		}
	}
}

func TestAtomicOps(t *testing.T) {
	t.Run("int32", testAtomicOps[int32])
	t.Run("int64", testAtomicOps[int64])
	t.Run("uint32", testAtomicOps[uint32])
	t.Run("uint64", testAtomicOps[uint64])
}

// TestAtomicAddGoroutines: increments from goroutines through two separate
// mappings of one segment add up.
func TestAtomicAddGoroutines(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[int64](name, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Attach[int64](name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			x := a
			if g%2 == 1 {
				x = b
			}
			for range 10000 {
				AtomicAdd(x, 1, 1)
			}
		})
	}
	wg.Wait()
	if got := AtomicLoad(a, 1); got != 40000 {
		t.Fatalf("4 × 10000 increments give %d", got)
	}
}

func testWaitWake(t *testing.T, x *Tensor[uint32]) {
	ctx := context.Background()
	// A value already different returns at once.
	AtomicStore(x, 5, 1)
	if err := WaitValue(ctx, x, 4, 1); err != nil {
		t.Fatal(err)
	}
	// An unchanged value waits for the context.
	c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	err := WaitValue(c, x, 5, 1)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitValue on an unchanged element: %v, want DeadlineExceeded", err)
	}
	// A sleeping waiter is woken: Wake reports it once it sleeps.
	for _, waitCtx := range []context.Context{ctx, t.Context()} {
		done := make(chan error)
		go func() {
			for AtomicLoad(x, 1) == 5 {
				if err := WaitValue(waitCtx, x, 5, 1); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		woken := 0
		for woken == 0 {
			time.Sleep(time.Millisecond)
			// Not yet changed: a woken waiter sleeps again.
			woken, err = Wake(x, 1, 1)
			if err != nil {
				t.Fatal(err)
			}
		}
		AtomicStore(x, 6, 1)
		if _, err := Wake(x, 10, 1); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		AtomicStore(x, 5, 1)
	}
	// Cancelling wakes the waiter at once.
	c, cancel = context.WithCancel(ctx)
	time.AfterFunc(30*time.Millisecond, cancel)
	start := time.Now()
	err = WaitValue(c, x, 5, 1)
	late := time.Since(start) - 30*time.Millisecond
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled WaitValue: %v", err)
	}
	t.Logf("a cancelled WaitValue returned %v after cancel", late)
	if n, err := Wake(x, 0, 1); n != 0 || err != nil {
		t.Fatalf("Wake of 0: %d, %v", n, err)
	}
}

func TestWaitValueWake(t *testing.T) {
	t.Run("heap", func(t *testing.T) { testWaitWake(t, New[uint32](2)) })
	t.Run("shm", func(t *testing.T) {
		s, err := Create[uint32](uniqueName(t), []int{2})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		testWaitWake(t, s)
	})
}

func TestWaitValueChecks(t *testing.T) {
	x := New[int32](2)
	if err, _ := recovered(func() { WaitValue(context.Background(), x, 0, 2) }).(error); err == nil {
		t.Error("WaitValue out of range did not panic")
	}
	if err, _ := recovered(func() { Wake(x, 1, 0, 0) }).(error); err == nil {
		t.Error("Wake with two indices on a 1-D tensor did not panic")
	}
	s, err := Create[int32](uniqueName(t), []int{2})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err, _ := recovered(func() { WaitValue(context.Background(), s, 0, 0) }).(error); !errors.Is(err, ErrClosed) {
		t.Errorf("WaitValue on a closed tensor panics with %v, want ErrClosed", err)
	}
}

// TestWaitValueNoLeaks: cancelled and timed-out waits leave no goroutine.
func TestWaitValueNoLeaks(t *testing.T) {
	x := New[int32](1)
	gs := runtime.NumGoroutine()
	for i := range 200 {
		var c context.Context
		var cancel context.CancelFunc
		if i%2 == 0 {
			c, cancel = context.WithTimeout(context.Background(), 100*time.Microsecond)
		} else {
			c, cancel = context.WithCancel(context.Background())
			time.AfterFunc(100*time.Microsecond, cancel)
		}
		if err := WaitValue(c, x, 0, 0); err == nil {
			// Spurious wake-ups are allowed: only errors matter here.
			continue
		} else if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		cancel()
	}
	if now := settledGoroutines(gs); now > gs {
		t.Fatalf("%d goroutines after 200 cancelled waits, %d before", now, gs)
	}
}
