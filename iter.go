package shmtensor

import (
	"iter"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// Values returns an iterator over the elements of t in C order (row-major,
// last index fastest), whatever its strides.
//
// For speed Values works in runs: a contiguous heap tensor is walked as
// one slice, and other tensors a row or a small batch of elements at a
// time, so the loop body may not see writes it makes to elements a few
// places ahead. Elements of a segment are copied out a batch at a time
// after checking that the segment is open, so a loop body that closes the
// segment makes the iteration panic with ErrClosed at the next batch
// rather than read unmapped memory.
func (t *Tensor[T]) Values() iter.Seq[T] {
	// The function is kept small so that it and the loop body inline into
	// the caller's range loop, which then runs as fast as a plain loop
	// over each run.
	return func(yield func(T) bool) {
		var w runWalker[T]
		for {
			run := t.nextRun(&w)
			if run == nil {
				return
			}
			for _, v := range run {
				if !yield(v) {
					return
				}
			}
		}
	}
}

// runBatch is how many elements Values copies out at a time where it
// cannot hand out a slice of the tensor's memory.
const runBatch = 256

// runWalker is Values' position in a tensor.
type runWalker[T Number] struct {
	state   int // 0 before the first run, 1 walking, 2 done
	nd      int // coalesced axes
	shape   [MaxDims]int
	strides [MaxDims]int
	ctr     [MaxDims]int // odometer over the axes but the last
	p       int          // offset of the current row's first element
	k       int          // position within the current row
	direct  bool         // rows with unit stride are handed out as slices of t.data
	buf     [runBatch]T
}

// nextRun returns the next run of elements in C order, or nil at the end.
func (t *Tensor[T]) nextRun(w *runWalker[T]) []T {
	t.check()
	switch w.state {
	case 2:
		return nil
	case 0:
		w.state = 1
		if t.Len() == 0 {
			w.state = 2
			return nil
		}
		if t.seg == nil && t.IsContiguous() {
			w.state = 2
			return t.Data()
		}
		// Merged axes walk the same elements in the same order, with
		// fewer odometer steps; a 0-d tensor becomes one row of one.
		nd, cs, st := strided.Coalesce(t.shape, t.strides)
		if nd == 0 {
			nd, cs[0], st[0][0] = 1, 1, 1
		}
		w.nd, w.shape, w.strides = nd, cs, st[0]
		w.p = t.off
		// Heap memory cannot go away under the loop, so unit-stride rows
		// need no copy.
		w.direct = t.seg == nil && st[0][nd-1] == 1
	}
	n, step := w.shape[w.nd-1], w.strides[w.nd-1]
	var run []T
	if w.direct {
		run = t.data[w.p : w.p+n]
		w.k = n
	} else {
		m := min(runBatch, n-w.k)
		run = w.buf[:m]
		q := w.p + w.k*step
		if step == 1 {
			copy(run, t.data[q:q+m])
		} else {
			for i := range run {
				run[i] = t.data[q]
				q += step
			}
		}
		w.k += m
	}
	if w.k == n {
		w.k = 0
		k := w.nd - 2
		for ; k >= 0; k-- {
			w.ctr[k]++
			w.p += w.strides[k]
			if w.ctr[k] < w.shape[k] {
				break
			}
			w.p -= w.strides[k] * w.shape[k]
			w.ctr[k] = 0
		}
		if k < 0 {
			w.state = 2
		}
	}
	return run
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
		closed := t.closed
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
				if *closed {
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
