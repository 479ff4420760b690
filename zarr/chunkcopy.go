package zarr

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/shmtensor/shmtensor"
)

// view is an array's memory as the chunk copies see it: a tensor whose
// elements the copies move as bits, whatever their numeric type.
type view interface {
	// toChunk copies the region (start, n) of the array into chunk, a
	// C-ordered buffer of the chunk shape, leaving the rest of it alone.
	toChunk(chunk []byte, chunkShape, start, n []int) error
	// fromChunk copies the region (start, n) from chunk (C-ordered, or
	// column-major when fortran) into the array.
	fromChunk(chunk []byte, chunkShape, start, n []int, fortran bool) error
	// contiguous returns the bytes of the region (start, n) if they are
	// one C-ordered run in memory, which is then a chunk as it stands.
	contiguous(start, n []int) ([]byte, bool)
}

// tensorView is a view over a Tensor of any strides.
type tensorView[T shmtensor.Number] struct{ t *shmtensor.Tensor[T] }

// segmentView returns a view of seg's data. Bool and float16, which have no
// Go Number type, and every other type travel as unsigned integers (or
// complex128 for 16 bytes) of their size: the copies never interpret them.
func segmentView(seg *shmtensor.Segment) (view, error) {
	b := seg.Bytes()
	shape := seg.Shape()
	switch seg.DType().Size() {
	case 1:
		return carrier[uint8](b, shape, seg.Fortran())
	case 2:
		return carrier[uint16](b, shape, seg.Fortran())
	case 4:
		return carrier[uint32](b, shape, seg.Fortran())
	case 8:
		return carrier[uint64](b, shape, seg.Fortran())
	case 16:
		return carrier[complex128](b, shape, seg.Fortran())
	}
	return nil, fmt.Errorf("%w: %v", shmtensor.ErrDType, seg.DType())
}

// carrier makes a tensor of T over the bytes b holding shape in C or
// Fortran order.
func carrier[T shmtensor.Number](b []byte, shape []int, fortran bool) (view, error) {
	data := asSlice[T](b)
	if !fortran {
		t, err := shmtensor.FromSlice(data, nonNil(shape)...)
		if err != nil {
			return nil, err
		}
		return tensorView[T]{t}, nil
	}
	rev := slices.Clone(shape)
	slices.Reverse(rev)
	t, err := shmtensor.FromSlice(data, nonNil(rev)...)
	if err != nil {
		return nil, err
	}
	if t, err = t.Transpose(); err != nil {
		return nil, err
	}
	return tensorView[T]{t}, nil
}

// nonNil keeps a 0-d shape 0-d: FromSlice reads a nil shape as "1-D".
func nonNil(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

// asSlice reinterprets b as elements of T. The caller's buffers are
// aligned for T: segment data starts at a page boundary, chunk buffers come
// from newChunkBuf.
func asSlice[T shmtensor.Number](b []byte) []T {
	var z T
	n := len(b) / int(unsafe.Sizeof(z))
	if n == 0 {
		return []T{}
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// newChunkBuf returns a zeroed buffer of n bytes aligned for any element
// type.
func newChunkBuf(n int) []byte {
	words := make([]complex128, (n+15)/16)
	if n == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(words))), n)
}

func ranges(start, n []int) []shmtensor.Range {
	r := make([]shmtensor.Range, len(start))
	for i := range start {
		r[i] = shmtensor.Span(start[i], start[i]+n[i])
	}
	return r
}

// sub returns the region (start, n) of t; a 0-d tensor is its own region.
func sub[T shmtensor.Number](t *shmtensor.Tensor[T], start, n []int) (*shmtensor.Tensor[T], error) {
	if len(start) == 0 {
		return t, nil
	}
	return t.Slice(ranges(start, n)...)
}

// chunkTensor is the tensor over a chunk buffer.
func chunkTensor[T shmtensor.Number](chunk []byte, chunkShape []int, fortran bool) (*shmtensor.Tensor[T], error) {
	v, err := carrier[T](chunk, chunkShape, fortran)
	if err != nil {
		return nil, err
	}
	return v.(tensorView[T]).t, nil
}

func (v tensorView[T]) toChunk(chunk []byte, chunkShape, start, n []int) error {
	src, err := sub(v.t, start, n)
	if err != nil {
		return err
	}
	c, err := chunkTensor[T](chunk, chunkShape, false)
	if err != nil {
		return err
	}
	dst, err := sub(c, make([]int, len(n)), n)
	if err != nil {
		return err
	}
	return dst.CopyFrom(src)
}

func (v tensorView[T]) fromChunk(chunk []byte, chunkShape, start, n []int, fortran bool) error {
	dst, err := sub(v.t, start, n)
	if err != nil {
		return err
	}
	c, err := chunkTensor[T](chunk, chunkShape, fortran)
	if err != nil {
		return err
	}
	src, err := sub(c, make([]int, len(n)), n)
	if err != nil {
		return err
	}
	return dst.CopyFrom(src)
}

func (v tensorView[T]) contiguous(start, n []int) ([]byte, bool) {
	d := v.t.Data() // nil unless the whole tensor is C-contiguous
	if d == nil {
		return nil, false
	}
	shape := v.t.Shape()
	k := 0
	for k < len(n) && n[k] == 1 {
		k++
	}
	for i := k + 1; i < len(n); i++ {
		if n[i] != shape[i] {
			return nil, false
		}
	}
	off, stride, cnt := 0, 1, 1
	for i := len(shape) - 1; i >= 0; i-- {
		off += start[i] * stride
		stride *= shape[i]
		cnt *= n[i]
	}
	if cnt == 0 {
		return nil, false
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(&d[off])), cnt*int(unsafe.Sizeof(z))), true
}

// fillBuf sets every element of b to the element fill.
func fillBuf(b, fill []byte) {
	if len(b) == 0 {
		return
	}
	allZero := true
	for _, x := range fill {
		allZero = allZero && x == 0
	}
	if allZero {
		clear(b)
		return
	}
	n := copy(b, fill)
	for n < len(b) {
		n += copy(b[n:], b[:n])
	}
}

// swapBytes reverses the byte order of each size-byte element of b (each
// half of a complex number separately), for big-endian stores.
func swapBytes(b []byte, size int, complexType bool) {
	if complexType {
		size /= 2
	}
	if size < 2 {
		return
	}
	for i := 0; i+size <= len(b); i += size {
		slices.Reverse(b[i : i+size])
	}
}
