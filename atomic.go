package shmtensor

import (
	"context"
	"errors"
	"sync/atomic"
	"unsafe"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// Atomic is the set of element types with atomic operations: 32- and 64-bit
// integers. Their elements in a segment are aligned (the data starts at a
// page boundary or, in other .npy files, at an offset View checks), so the
// operations are atomic across processes as well as goroutines.
type Atomic interface {
	~int32 | ~int64 | ~uint32 | ~uint64
}

// AtomicLoad returns the element at idx, read atomically (sync/atomic): a
// write by another goroutine or process is seen whole or not at all, and
// writes made before an AtomicStore or AtomicAdd of that element by the
// writer are visible after loading what it stored. Indices are checked as
// by At, and it panics as At does; it works on read-only tensors.
func AtomicLoad[T Atomic](t *Tensor[T], idx ...int) T {
	p := atomicAddr(t, "atomic load", false, idx)
	if is32[T]() {
		return T(atomic.LoadUint32((*uint32)(p)))
	}
	return T(atomic.LoadUint64((*uint64)(p)))
}

// AtomicStore stores v at idx atomically. It panics like Set: on a bad
// index, a read-only tensor (ErrReadOnly) or a closed one (ErrClosed).
func AtomicStore[T Atomic](t *Tensor[T], v T, idx ...int) {
	p := atomicAddr(t, "atomic store", true, idx)
	if is32[T]() {
		atomic.StoreUint32((*uint32)(p), uint32(v))
		return
	}
	atomic.StoreUint64((*uint64)(p), uint64(v))
}

// AtomicAdd adds delta to the element at idx atomically and returns the new
// value; it wraps around on overflow. Subtract with a negative delta, or
// for unsigned types with ^T(d-1). It panics like Set.
func AtomicAdd[T Atomic](t *Tensor[T], delta T, idx ...int) (new T) {
	p := atomicAddr(t, "atomic add", true, idx)
	// Two's complement addition is the same for signed and unsigned
	// integers, so the unsigned operations serve both.
	if is32[T]() {
		return T(atomic.AddUint32((*uint32)(p), uint32(delta)))
	}
	return T(atomic.AddUint64((*uint64)(p), uint64(delta)))
}

// AtomicCompareAndSwap stores new at idx if the element holds old, in one
// atomic step, and reports whether it did. It panics like Set.
func AtomicCompareAndSwap[T Atomic](t *Tensor[T], old, new T, idx ...int) (swapped bool) {
	p := atomicAddr(t, "atomic compare and swap", true, idx)
	if is32[T]() {
		return atomic.CompareAndSwapUint32((*uint32)(p), uint32(old), uint32(new))
	}
	return atomic.CompareAndSwapUint64((*uint64)(p), uint64(old), uint64(new))
}

// errUnaligned is the panic of an atomic operation on an element that is
// not aligned to its size, which only FromSlice over foreign memory or a
// 64-bit element on a 32-bit system can give.
var errUnaligned = errors.New("element is not aligned to its size for atomic access")

// atomicAddr returns the address of the element at idx after the checks of
// At (and of Set when write is true).
func atomicAddr[T Atomic](t *Tensor[T], op string, write bool, idx []int) unsafe.Pointer {
	if write {
		t.checkWrite(op)
	} else {
		t.check()
	}
	p := unsafe.Pointer(&t.data[t.offset(idx)])
	if uintptr(p)%unsafe.Sizeof(*new(T)) != 0 {
		panicErr(op, errUnaligned)
	}
	return p
}

// WaitValue blocks while the element at idx equals old, and returns nil
// once it has seen it differ or has been woken by Wake. Like futex(2), on
// which it is built on Linux, it can return nil spuriously with the element
// still equal to old, so wait in a loop that re-checks the condition:
//
//	for v := shmtensor.AtomicLoad(t, i); v == old; v = shmtensor.AtomicLoad(t, i) {
//		if err := shmtensor.WaitValue(ctx, t, old, i); err != nil {
//			return err
//		}
//	}
//
// It returns ctx's error (wrapped, for errors.Is) when ctx is done first,
// at once on Linux and FreeBSD, where a cancelled wait wakes every waiter of
// the element (one more spurious wake-up for them). It panics on a bad index
// or a closed tensor, as At does; close a segment only after its waits have
// returned. A read-only tensor can be waited on.
//
// Linux uses futex(2) and FreeBSD _umtx_op(2), both in their shared forms,
// which work across processes mapping the same segment and within one
// process on heap tensors too. macOS and other systems poll the element,
// sleeping from 50 µs up to 5 ms between looks: a change is seen up to 5 ms
// late there.
func WaitValue[T ~int32 | ~uint32](ctx context.Context, t *Tensor[T], old T, idx ...int) error {
	p := (*uint32)(atomicAddr(t, "wait", false, idx))
	if err := sys.WaitWord(ctx, p, uint32(old)); err != nil {
		return &Error{Op: "wait", Name: t.segName(), Err: err}
	}
	return nil
}

// Wake wakes up to n goroutines or processes waiting in WaitValue on the
// element at idx and returns how many it woke. Change the element (with
// AtomicStore or AtomicAdd) before waking, or a waiter may sleep again. The
// count is exact on Linux; FreeBSD does not report it and polling systems
// have no sleepers to wake, so there it is 0. It panics like At.
func Wake[T ~int32 | ~uint32](t *Tensor[T], n int, idx ...int) (woken int, err error) {
	p := (*uint32)(atomicAddr(t, "wake", false, idx))
	if n <= 0 {
		return 0, nil
	}
	woken, err = sys.WakeWord(p, n)
	if err != nil {
		return woken, &Error{Op: "wake", Name: t.segName(), Err: err}
	}
	return woken, nil
}

// segName returns the name of t's segment for errors, "" for heap tensors.
func (t *Tensor[T]) segName() string {
	if t.seg == nil {
		return ""
	}
	return t.seg.name
}

// is32 reports whether T is a 32-bit type (else it is a 64-bit one).
func is32[T Atomic]() bool {
	var z T
	return unsafe.Sizeof(z) == 4
}
