package shmtensor

import (
	"fmt"
	"slices"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// Clone returns a contiguous copy of t on the Go heap, writable even when t
// is read-only.
//
// Clone, CopyFrom and Fill split large tensors (2 MiB and up) across
// GOMAXPROCS goroutines, each taking a contiguous range of the destination
// (whole rows, or whole cache blocks of a transposing copy), so a big copy
// runs at memory bandwidth rather than at the speed of one core. The
// result is the same as a serial copy's.
func (t *Tensor[T]) Clone() *Tensor[T] {
	t.check()
	shape := slices.Clone(t.shape)
	// Both copies below write every element, so the result need not be
	// zeroed first.
	c := newTensor(strided.MakeNoZero[T](t.Len()), 0, shape, strided.CStrides(shape), nil, false)
	if d := t.Data(); d != nil {
		strided.ParallelCopy(c.data, d)
		return c
	}
	strided.CopyLayoutPar(c.data, 0, c.strides, t.data, t.off, t.strides, t.shape)
	return c
}

// CopyFrom copies the elements of src into t, which must have the same
// shape; either side may have any strides. Overlapping views of the same
// memory are handled as if src were first copied to a temporary, as numpy's
// assignment does. It fails with ErrShape on a shape mismatch and with
// ErrReadOnly when t is read-only. Large copies use several goroutines (see
// Clone).
//
// Overlap is detected by address, within one mapping: two separate mappings
// of the same segment (two Attach calls) are not recognised as the same
// memory.
func (t *Tensor[T]) CopyFrom(src *Tensor[T]) error {
	t.check()
	src.check()
	if t.ro {
		return &Error{Op: "copy", Err: ErrReadOnly}
	}
	if !slices.Equal(t.shape, src.shape) {
		return &Error{Op: "copy", Err: fmt.Errorf("%w: cannot copy shape %v into %v", ErrShape, src.shape, t.shape)}
	}
	if t.Len() == 0 {
		return nil
	}
	ov := overlaps(t, src)
	if d, s := t.Data(), src.Data(); d != nil && s != nil {
		if ov {
			copy(d, s) // copy is memmove: overlap is fine
		} else {
			strided.ParallelCopy(d, s)
		}
		return nil
	}
	if ov {
		if &t.data[t.off] == &src.data[src.off] && slices.Equal(t.strides, src.strides) {
			return nil // the same view: nothing changes
		}
		src = src.Clone()
	}
	strided.CopyLayoutPar(t.data, t.off, t.strides, src.data, src.off, src.strides, t.shape)
	return nil
}

// overlaps reports whether the address ranges spanned by two non-empty
// tensors intersect. The ranges may intersect while the elements do not
// (a[::2] and a[1::2]); copying through a temporary is then merely slower.
func overlaps[T Number](a, b *Tensor[T]) bool {
	alo, ahi := strided.Span(a.data, a.off, a.shape, a.strides)
	blo, bhi := strided.Span(b.data, b.off, b.shape, b.strides)
	return alo <= bhi && blo <= ahi
}

// Fill sets every element of t to v, in several goroutines for a large
// tensor (see Clone). It panics with ErrReadOnly on a read-only tensor,
// like Set.
func (t *Tensor[T]) Fill(v T) {
	t.checkWrite("fill")
	if t.Len() == 0 {
		return
	}
	if d := t.Data(); d != nil {
		strided.ParallelFill(d, v)
		return
	}
	strided.FillLayoutPar(t.data, t.off, t.shape, t.strides, v)
}
