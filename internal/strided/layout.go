package strided

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// This file holds the shape and stride arithmetic every view shares. A
// layout is valid when every element it reaches lies inside the tensor's
// data; the view constructors only ever shrink or regroup that set, so they
// need no bounds checks of their own beyond the ones here.

// NumElements returns the product of shape, or ok == false if a dimension
// is negative, there are more than MaxDims, or the product overflows int.
// The product of the non-zero dimensions must fit too, as numpy requires:
// it bounds the C-order strides, so CStrides cannot overflow even for a
// shape such as (0, 1<<40, 1<<40).
func NumElements(shape []int) (n int, ok bool) {
	if len(shape) > MaxDims {
		return 0, false
	}
	n, nz := 1, 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		if d == 0 {
			n = 0
			continue
		}
		hi, lo := bits.Mul64(uint64(nz), uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		nz = int(lo)
	}
	if n != 0 {
		n = nz
	}
	return n, true
}

// SpanBytes returns numpy's measure of how big an array of shape with
// elements of size elem is: elem times the product of the non-zero
// dimensions, so an empty shape counts what its other axes would span. ok is
// false for a shape NumElements refuses or a span that overflows int, which
// numpy refuses with "array is too big". A span that fits bounds every byte
// stride of shape in either order, and every byte offset of any view of it,
// empty or not, so none of them can overflow.
func SpanBytes(shape []int, elem int) (int, bool) {
	if _, ok := NumElements(shape); !ok || elem < 0 {
		return 0, false
	}
	span := elem
	for _, d := range shape {
		if d == 0 {
			continue
		}
		hi, lo := bits.Mul64(uint64(span), uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		span = int(lo)
	}
	return span, true
}

// ByteSize returns the bytes needed for shape with elements of size elem,
// checked against overflow of int64 and int. Like numpy, it refuses a shape
// whose SpanBytes overflows, empty shapes included: (0, 1<<60) of 8-byte
// elements holds no bytes, but its first axis's byte stride would be 1<<63.
func ByteSize(shape []int, elem int) (int64, error) {
	n, ok := NumElements(shape)
	if !ok {
		return 0, fmt.Errorf("%w: %v: negative, more than %d dimensions, or too large", errs.ErrShape, shape, MaxDims)
	}
	span, ok := SpanBytes(shape, elem)
	if !ok {
		return 0, fmt.Errorf("%w: %v of %d-byte elements is too big: the item size times the non-zero dimensions exceeds %d bytes (numpy: array is too big)",
			errs.ErrShape, shape, elem, math.MaxInt)
	}
	if n == 0 {
		return 0, nil
	}
	return int64(span), nil
}

// CStrides returns the row-major (C order) strides of shape, in elements.
// Zero-length axes count as 1, as numpy does, so strides stay distinct. The
// caller has checked shape with NumElements.
func CStrides(shape []int) []int {
	s := make([]int, len(shape))
	PutCStrides(s, shape)
	return s
}

// PutCStrides writes the row-major strides of shape into s, which has
// its length.
func PutCStrides(s, shape []int) {
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= max(shape[i], 1)
	}
}

// FStrides returns the column-major (Fortran order) strides of shape.
func FStrides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := range shape {
		s[i] = acc
		acc *= max(shape[i], 1)
	}
	return s
}

// IsCContiguous applies numpy's rule: axes of length 1 do not constrain
// their stride, and a tensor with no elements is contiguous.
func IsCContiguous(shape, strides []int) bool {
	if slices.Contains(shape, 0) {
		return true
	}
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] != 1 && strides[i] != acc {
			return false
		}
		acc *= shape[i]
	}
	return true
}

// IsFContiguous is IsCContiguous for column-major order.
func IsFContiguous(shape, strides []int) bool {
	if slices.Contains(shape, 0) {
		return true
	}
	acc := 1
	for i := range shape {
		if shape[i] != 1 && strides[i] != acc {
			return false
		}
		acc *= shape[i]
	}
	return true
}

// Extent returns the smallest and largest offsets, relative to the first
// element, that a non-empty layout reaches. The caller has checked that the
// layout has elements; a valid layout's Extent cannot overflow because it
// lies inside a slice.
func Extent(shape, strides []int) (lo, hi int) {
	for i, d := range shape {
		s := strides[i] * (d - 1)
		if s < 0 {
			lo += s
		} else {
			hi += s
		}
	}
	return lo, hi
}

// NormAxis maps axis, which may count from the end when negative, to
// [0, ndim), or returns ok == false.
func NormAxis(axis, ndim int) (int, bool) {
	if axis < 0 {
		axis += ndim
	}
	return axis, axis >= 0 && axis < ndim
}

// ResolveShape checks a requested reshape target against n elements of
// size elem and replaces its single -1 by the inferred length, following
// numpy: the known dimensions must divide n, a -1 next to a zero-length
// dimension is ambiguous and refused, and the result's SpanBytes must fit
// (an empty tensor cannot take a shape whose strides would overflow).
func ResolveShape(shape []int, n, elem int) ([]int, error) {
	if len(shape) > MaxDims {
		return nil, fmt.Errorf("%w: %d dimensions, at most %d allowed", errs.ErrShape, len(shape), MaxDims)
	}
	out := make([]int, len(shape))
	copy(out, shape)
	unknown := -1
	known := 1
	for i, d := range shape {
		switch {
		case d == -1:
			if unknown >= 0 {
				return nil, fmt.Errorf("%w: can only infer one dimension in %v", errs.ErrShape, shape)
			}
			unknown = i
		case d < 0:
			return nil, fmt.Errorf("%w: negative dimension in %v", errs.ErrShape, shape)
		default:
			hi, lo := bits.Mul64(uint64(known), uint64(d))
			if hi != 0 || lo > math.MaxInt {
				return nil, fmt.Errorf("%w: cannot reshape %d elements into %v", errs.ErrShape, n, shape)
			}
			known = int(lo)
		}
	}
	if unknown >= 0 {
		if known == 0 || n%known != 0 {
			return nil, fmt.Errorf("%w: cannot reshape %d elements into %v", errs.ErrShape, n, shape)
		}
		out[unknown] = n / known
	} else if known != n {
		return nil, fmt.Errorf("%w: cannot reshape %d elements into %v", errs.ErrShape, n, shape)
	}
	if _, ok := SpanBytes(out, elem); !ok {
		return nil, fmt.Errorf("%w: %v of %d-byte elements is too big (numpy: array is too big)", errs.ErrShape, out, elem)
	}
	return out, nil
}

// ReshapeStrides returns the strides that present the elements of the
// layout (shape, strides) in C order under newShape without moving any of
// them, or ok == false when no such strides exist and numpy would copy.
// newShape holds as many elements as shape.
//
// Contiguous layouts (numpy's rule, which includes every empty one) take
// C strides. Otherwise axes of length 1 are dropped and the remaining old
// and new axes are split into the shortest runs with equal products; each
// run of old axes must be one evenly strided sequence, and then the new
// axes of the run step through that sequence. The strides match numpy's,
// including those of length-1 axes, so the two can be compared directly.
// (numpy keeps the strides when the requested shape is literally the
// current one; Reshape does that before calling here.)
func ReshapeStrides(shape, strides, newShape []int) ([]int, bool) {
	if IsCContiguous(shape, strides) {
		return CStrides(newShape), true
	}
	var odims, ostr [MaxDims]int
	no := 0
	for i, d := range shape {
		if d != 1 {
			odims[no], ostr[no] = d, strides[i]
			no++
		}
	}
	ns := make([]int, len(newShape))
	oi, ni := 0, 0
	for oi < no && ni < len(newShape) {
		oj, nj := oi+1, ni+1
		op, np := odims[oi], newShape[ni]
		for op != np {
			// Both products are non-zero (the layout is not empty) and the
			// totals agree, so whichever side is behind has axes left.
			if np < op {
				np *= newShape[nj]
				nj++
			} else {
				op *= odims[oj]
				oj++
			}
		}
		for k := oi; k < oj-1; k++ {
			if ostr[k] != odims[k+1]*ostr[k+1] {
				return nil, false
			}
		}
		ns[nj-1] = ostr[oj-1]
		for k := nj - 1; k > ni; k-- {
			ns[k-1] = ns[k] * newShape[k]
		}
		oi, ni = oj, nj
	}
	// Whatever new axes are left have length 1; numpy gives them the stride
	// of the last axis placed.
	last := 1
	if ni > 0 {
		last = ns[ni-1]
	}
	for k := ni; k < len(newShape); k++ {
		ns[k] = last
	}
	return ns, true
}

// Coalesce drops axes of length 1 and merges neighbouring axes that every
// one of the stride sets walks as a single evenly strided run, so loops over
// the layout have as few levels as possible. It returns the merged shape and
// one merged stride set per input, in fixed arrays to avoid allocating; nd
// is the number of axes kept. A layout with no elements keeps its shape as
// is (the caller checks for emptiness first).
func Coalesce(shape []int, strides ...[]int) (nd int, cshape [MaxDims]int, cstrides [2][MaxDims]int) {
	for i, d := range shape {
		if d == 1 {
			continue
		}
		if nd > 0 {
			merge := true
			for k, s := range strides {
				if cstrides[k][nd-1] != d*s[i] {
					merge = false
					break
				}
			}
			if merge {
				cshape[nd-1] *= d
				for k, s := range strides {
					cstrides[k][nd-1] = s[i]
				}
				continue
			}
		}
		cshape[nd] = d
		for k, s := range strides {
			cstrides[k][nd] = s[i]
		}
		nd++
	}
	return nd, cshape, cstrides
}

// Strides returns the element strides of data stored contiguously in C
// order, or in Fortran order when fortran is set.
func Strides(shape []int, fortran bool) []int {
	if fortran {
		return FStrides(shape)
	}
	return CStrides(shape)
}
