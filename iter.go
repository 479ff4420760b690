package shmtensor

import (
	"iter"
	"sync/atomic"
)

// neverClosed stands in for the closed flag of heap tensors, so iteration
// tests one flag per element without a branch on the segment.
var neverClosed atomic.Bool

// closedFlag returns the flag that reports t's memory gone.
func (t *Tensor[T]) closedFlag() *atomic.Bool {
	if t.seg == nil {
		return &neverClosed
	}
	return &t.seg.closed
}

// Values returns an iterator over the elements of t in C order (row-major,
// last index fastest), whatever its strides.
//
// The loop body may close t's segment: the iteration then panics with
// ErrClosed at the next element rather than touching unmapped memory.
func (t *Tensor[T]) Values() iter.Seq[T] {
	return func(yield func(T) bool) {
		t.check()
		closed := t.closedFlag()
		if d := t.Data(); d != nil {
			for _, v := range d {
				if !yield(v) {
					return
				}
				if closed.Load() {
					panicErr("values", ErrClosed)
				}
			}
			return
		}
		if t.Len() == 0 {
			return
		}
		// Merged axes walk the same elements in the same order, with
		// fewer odometer steps.
		nd, cs, st := coalesce(t.shape, t.strides)
		shape, strides := cs[:nd], st[0][:nd]
		n, step := shape[nd-1], strides[nd-1]
		var ctr [MaxDims]int
		p := t.off
		for {
			q := p
			for range n {
				if !yield(t.data[q]) {
					return
				}
				if closed.Load() {
					panicErr("values", ErrClosed)
				}
				q += step
			}
			k := nd - 2
			for ; k >= 0; k-- {
				ctr[k]++
				p += strides[k]
				if ctr[k] < shape[k] {
					break
				}
				p -= strides[k] * shape[k]
				ctr[k] = 0
			}
			if k < 0 {
				return
			}
		}
	}
}

// All returns an iterator over the indices and elements of t in C order.
// The index slice is reused from one step to the next, like the slice of
// bufio.Scanner.Bytes: copy it to keep it, and do not modify it. A
// 0-dimensional tensor yields one element with an empty index.
func (t *Tensor[T]) All() iter.Seq2[[]int, T] {
	return func(yield func([]int, T) bool) {
		t.check()
		if t.Len() == 0 {
			return
		}
		closed := t.closedFlag()
		nd := len(t.shape)
		idx := make([]int, nd)
		if nd == 0 {
			yield(idx, t.data[t.off])
			return
		}
		shape, strides := t.shape, t.strides
		n, step := shape[nd-1], strides[nd-1]
		var ctr [MaxDims]int
		p := t.off
		for {
			copy(idx, ctr[:nd-1])
			q := p
			for j := range n {
				idx[nd-1] = j
				if !yield(idx, t.data[q]) {
					return
				}
				if closed.Load() {
					panicErr("all", ErrClosed)
				}
				q += step
			}
			k := nd - 2
			for ; k >= 0; k-- {
				ctr[k]++
				p += strides[k]
				if ctr[k] < shape[k] {
					break
				}
				p -= strides[k] * shape[k]
				ctr[k] = 0
			}
			if k < 0 {
				return
			}
		}
	}
}
