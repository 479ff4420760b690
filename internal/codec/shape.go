package codec

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// The shape arithmetic the codecs check headers with: private copies of the
// root package's numElements, byteSize, isCContiguous and fStrides, which
// internal/strided is taking over.
// TODO(merge): use internal/strided.

// MaxDims is the most dimensions a header may record: the root package's
// MaxDims, numpy 2's limit.
const MaxDims = 64

// numElements returns the product of shape, or ok == false if a dimension
// is negative, there are more than MaxDims, or the product overflows int.
// The product of the non-zero dimensions must fit too, as numpy requires.
func numElements(shape []int) (n int, ok bool) {
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

// byteSize returns the bytes needed for shape with elements of size elem,
// checked against overflow of int64 and int.
func byteSize(shape []int, elem int) (int64, error) {
	n, ok := numElements(shape)
	if !ok {
		return 0, fmt.Errorf("%w: %v: negative, more than %d dimensions, or too large", errs.ErrShape, shape, MaxDims)
	}
	hi, lo := bits.Mul64(uint64(n), uint64(elem))
	if hi != 0 || lo > math.MaxInt {
		return 0, fmt.Errorf("%w: %v of %d-byte elements overflows", errs.ErrShape, shape, elem)
	}
	return int64(lo), nil
}

// fStrides returns the column-major (Fortran order) strides of shape.
func fStrides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := range shape {
		s[i] = acc
		acc *= max(shape[i], 1)
	}
	return s
}

// isCContiguous applies numpy's rule: axes of length 1 do not constrain
// their stride, and a tensor with no elements is contiguous.
func isCContiguous(shape, strides []int) bool {
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
