package shmtensor

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/strided"
)

// MaxDims is the largest number of dimensions a tensor may have. It is
// numpy 2's limit; numpy 1 and SharedArray stop at 32.
const MaxDims = 64

// The shape arithmetic in internal/strided and the codecs have their own
// MaxDims; this fails to compile unless the three are equal.
var (
	_ [0]struct{} = [MaxDims - strided.MaxDims]struct{}{}
	_ [0]struct{} = [MaxDims - codec.MaxDims]struct{}{}
)

// FormatShape formats shape as numpy prints one, a Python tuple: "()",
// "(5,)", "(3, 4)".
func FormatShape(shape []int) string { return codec.Tuple(shape) }

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
	closed  *bool // &seg.unmapped, or a flag that stays false for heap tensors

	// base (&data[off], nil when empty) and str (&strides[0]) let At skip
	// the bounds checks that the invariants above already guarantee.
	base, str unsafe.Pointer
}

// neverClosed is the closed flag of heap tensors: it stays false.
var neverClosed bool

// newTensor builds a view; the caller has checked that every index reachable
// through shape and strides from off lies inside data (strided.CheckView asserts it
// under the shmtensor_bounds build tag). Every Tensor is made here, which
// sets the fields derived from the others.
func newTensor[T Number](data []T, off int, shape, strides []int, seg *Segment, ro bool) *Tensor[T] {
	closed := &neverClosed
	if seg != nil {
		closed = &seg.unmapped
	}
	if boundsTag {
		if err := strided.CheckView(len(data), off, shape, strides); err != nil {
			panic(&Error{Op: "view", Err: err})
		}
	}
	var base unsafe.Pointer
	if off < len(data) { // else empty: At never loads
		base = unsafe.Pointer(&data[off])
	}
	return &Tensor[T]{data: data, off: off, shape: shape, strides: strides, seg: seg, ro: ro, closed: closed,
		base: base, str: unsafe.Pointer(unsafe.SliceData(strides))}
}

// elemSize is the size of a T in bytes, its DType's itemsize.
func elemSize[T Number]() int {
	var z T
	return int(unsafe.Sizeof(z))
}

// New returns a zeroed, C-ordered tensor of the given shape on the Go heap.
// Like make, it panics if a dimension is negative or the size overflows,
// with an *Error wrapping ErrShape.
func New[T Number](shape ...int) *Tensor[T] {
	size, err := strided.ByteSize(shape, elemSize[T]())
	if err != nil {
		panic(&Error{Op: "new", Err: err})
	}
	shape = slices.Clone(shape)
	return newTensor(make([]T, int(size)/elemSize[T]()), 0, shape, strided.CStrides(shape), nil, false)
}

// FromSlice returns a C-ordered tensor of the given shape that aliases data:
// writes through either show in the other. With no shape the tensor is 1-D
// of len(data). It fails with ErrShape unless the shape holds exactly
// len(data) elements.
func FromSlice[T Number](data []T, shape ...int) (*Tensor[T], error) {
	if shape == nil {
		shape = []int{len(data)}
	}
	n, ok := strided.NumElements(shape)
	if !ok || n != len(data) {
		return nil, &Error{Op: "fromslice", Err: fmt.Errorf("%w: %v does not hold %d elements", ErrShape, shape, len(data))}
	}
	if _, err := strided.ByteSize(shape, elemSize[T]()); err != nil {
		return nil, &Error{Op: "fromslice", Err: err} // empty, but too big for its strides
	}
	shape = slices.Clone(shape)
	return newTensor(data[:n:n], 0, shape, strided.CStrides(shape), nil, false), nil
}

// check panics if the tensor's segment has been closed: the memory behind
// t.data is gone and touching it would fault.
func (t *Tensor[T]) check() {
	if t.isClosed() {
		panic(closedPanic)
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
	n, _ := strided.NumElements(t.shape)
	return n
}

// ReadOnly reports whether writes through t are refused.
func (t *Tensor[T]) ReadOnly() bool { return t.ro }

// offset returns the position in t.data of the element at idx, panicking
// like a slice index on a wrong count or an out-of-range index.
func (t *Tensor[T]) offset(idx []int) int {
	if len(idx) != len(t.shape) {
		panic((*countPanic[T])(t))
	}
	p := t.off
	for k, i := range idx {
		if uint(i) >= uint(t.shape[k]) {
			panic(indexPanic{i, k, t.shape})
		}
		p += i * t.strides[k]
	}
	return p
}

// indexPanic and countPanic are what At and Set panic with on a bad index
// or number of indices. They are cheap to raise, which keeps At small
// enough to inline, and build the *Error they stand for when asked: each is
// an error whose message is that *Error's and which unwraps to it, so
// errors.As finds the *Error and errors.Is its sentinel. countPanic is the
// tensor itself, which costs At least of all.
type (
	indexPanic struct {
		index, axis int
		shape       []int
	}
	countPanic[T Number] Tensor[T]
)

func (e indexPanic) Error() string { return e.Unwrap().Error() }

// Unwrap returns the *Error the panic stands for, wrapping ErrIndex.
func (e indexPanic) Unwrap() error {
	return &Error{Op: "index", Err: indexError{e.index, e.axis, e.shape[e.axis]}}
}

// indexError says, as numpy does, which index is out of range.
type indexError struct{ index, axis, size int }

func (e indexError) Error() string {
	return fmt.Sprintf("index %d is out of bounds for axis %d with size %d", e.index, e.axis, e.size)
}

func (e indexError) Unwrap() error { return ErrIndex }

func (e *countPanic[T]) Error() string { return e.Unwrap().Error() }

// Unwrap returns the *Error the panic stands for: At checks the closed flag
// in the same branch as the count, so the panic wraps ErrClosed on a
// closed tensor and ErrIndex otherwise.
func (e *countPanic[T]) Unwrap() error {
	if *e.closed {
		return closedPanic
	}
	return &Error{Op: "index", Err: fmt.Errorf("%w: wrong number of indices for a %d-dimensional tensor of shape %v",
		ErrIndex, len(e.shape), e.shape)}
}

// isClosed reports whether t's segment has been closed: the memory behind
// t.data is gone and touching it would fault.
func (t *Tensor[T]) isClosed() bool { return *t.closed }

// closedPanic is the value methods panic with on a closed tensor; a
// ready-made value keeps the callers inlinable.
var closedPanic error = &Error{Op: "use of tensor", Err: ErrClosed}

// Set stores v at idx. It panics like At, and with ErrReadOnly on a
// read-only tensor.
func (t *Tensor[T]) Set(v T, idx ...int) {
	if t.seg != nil || t.ro {
		t.checkWrite("set")
	}
	t.data[t.offset(idx)] = v
}

// IsContiguous reports whether t is C-contiguous (row-major without gaps),
// by numpy's rule: axes of length 1 and empty tensors do not break it.
func (t *Tensor[T]) IsContiguous() bool {
	return strided.IsCContiguous(t.shape, t.strides)
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
		return []T{} // not nil, which would mean "not contiguous"
	}
	return t.data[t.off : t.off+n : t.off+n]
}
