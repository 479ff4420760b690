package shmtensor

import (
	"fmt"
	"slices"
)

// Tensor is an N-dimensional array of T with a shape and strides (in
// elements) over memory that is either a shared segment or the Go heap.
// Views (Reshape, Slice, Index, Transpose) share that memory.
//
// A Tensor is not safe for concurrent mutation by several goroutines, like a
// Go slice; reads are. Other processes attached to the same segment see
// writes as they happen, with no ordering beyond what the hardware gives.
type Tensor[T Number] struct {
	data    []T   // every element this view can reach, from its segment's data start
	off     int   // position in data of the element at index (0, 0, ...)
	shape   []int // never aliased outside
	strides []int // in elements; may be negative or zero
	seg     *Segment
	ro      bool
}

// newTensor builds a view; the caller has checked that every index reachable
// through shape and strides from off lies inside data.
func newTensor[T Number](data []T, off int, shape, strides []int, seg *Segment, ro bool) *Tensor[T] {
	return &Tensor[T]{data: data, off: off, shape: shape, strides: strides, seg: seg, ro: ro}
}

// New returns a zeroed, C-ordered tensor of the given shape on the Go heap.
// It panics if a dimension is negative or the size overflows, like make.
func New[T Number](shape ...int) *Tensor[T] {
	n, ok := numElements(shape)
	if !ok {
		panic(fmt.Sprintf("shmtensor: New: %v: %v", ErrShape, shape))
	}
	shape = slices.Clone(shape)
	return newTensor(make([]T, n), 0, shape, cStrides(shape), nil, false)
}

// FromSlice returns a C-ordered tensor of the given shape that aliases data:
// writes through either show in the other. With no shape the tensor is 1-D
// of len(data). It fails with ErrShape unless the shape holds exactly
// len(data) elements.
func FromSlice[T Number](data []T, shape ...int) (*Tensor[T], error) {
	if shape == nil {
		shape = []int{len(data)}
	}
	n, ok := numElements(shape)
	if !ok || n != len(data) {
		return nil, &Error{Op: "fromslice", Err: fmt.Errorf("%w: %v does not hold %d elements", ErrShape, shape, len(data))}
	}
	shape = slices.Clone(shape)
	return newTensor(data[:n:n], 0, shape, cStrides(shape), nil, false), nil
}

// check panics if the tensor's segment has been closed: the memory behind
// t.data is gone and touching it would fault.
func (t *Tensor[T]) check() {
	if t.seg != nil && t.seg.closed.Load() {
		panicErr("use of tensor", ErrClosed)
	}
}

// checkWrite is check plus the read-only test for methods that write.
func (t *Tensor[T]) checkWrite(op string) {
	t.check()
	if t.ro {
		panicErr(op, ErrReadOnly)
	}
}

// Segment returns the shared segment behind t, or nil for a heap tensor.
func (t *Tensor[T]) Segment() *Segment { return t.seg }

// Close unmaps t's segment; every view of it becomes unusable. It is a no-op
// for heap tensors and idempotent.
func (t *Tensor[T]) Close() error {
	if t.seg == nil {
		return nil
	}
	return t.seg.Close()
}

// DType returns the element type of t.
func (t *Tensor[T]) DType() DType { return DTypeOf[T]() }

// Shape returns a copy of t's shape.
func (t *Tensor[T]) Shape() []int { return slices.Clone(t.shape) }

// Strides returns a copy of t's strides, in elements (not bytes as numpy).
func (t *Tensor[T]) Strides() []int { return slices.Clone(t.strides) }

// NDim returns the number of dimensions; 0 for a scalar tensor.
func (t *Tensor[T]) NDim() int { return len(t.shape) }

// Len returns the number of elements, the product of the shape.
func (t *Tensor[T]) Len() int {
	n, _ := numElements(t.shape)
	return n
}

// ReadOnly reports whether writes through t are refused.
func (t *Tensor[T]) ReadOnly() bool { return t.ro }

// offset returns the position in t.data of the element at idx, panicking
// like a slice index on a wrong count or an out-of-range index.
func (t *Tensor[T]) offset(idx []int) int {
	if len(idx) != len(t.shape) {
		panic(fmt.Sprintf("shmtensor: %d indices for a %d-dimensional tensor", len(idx), len(t.shape)))
	}
	p := t.off
	for k, i := range idx {
		if uint(i) >= uint(t.shape[k]) {
			panic(fmt.Sprintf("shmtensor: index %d out of range [0:%d] on axis %d", i, t.shape[k], k))
		}
		p += i * t.strides[k]
	}
	return p
}

// At returns the element at idx, one index per dimension. It panics on a
// wrong number of indices or an index out of range, like a slice.
func (t *Tensor[T]) At(idx ...int) T {
	t.check()
	return t.data[t.offset(idx)]
}

// Set stores v at idx. It panics like At, and with ErrReadOnly on a
// read-only tensor.
func (t *Tensor[T]) Set(v T, idx ...int) {
	t.checkWrite("set")
	t.data[t.offset(idx)] = v
}

// IsContiguous reports whether t is C-contiguous (row-major without gaps),
// by numpy's rule: axes of length 1 and empty tensors do not break it.
func (t *Tensor[T]) IsContiguous() bool {
	return isCContiguous(t.shape, t.strides)
}

// Data returns t's elements as a slice in C order when t is contiguous, and
// nil otherwise. The slice aliases the tensor's memory and is valid only
// until Close. On a read-only tensor the memory is mapped without write
// permission: writing to the slice faults, so use it only to read.
func (t *Tensor[T]) Data() []T {
	t.check()
	if !t.IsContiguous() {
		return nil
	}
	n := t.Len()
	if n == 0 {
		return t.data[:0:0]
	}
	return t.data[t.off : t.off+n : t.off+n]
}
