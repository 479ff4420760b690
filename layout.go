package shmtensor

import (
	"fmt"
	"math"
	"math/bits"
)

// MaxDims is the largest number of dimensions a tensor may have. It is
// numpy 2's limit; numpy 1 and SharedArray stop at 32.
const MaxDims = 64

// numElements returns the product of shape, or ok == false if a dimension
// is negative, there are more than MaxDims, or the product overflows int.
func numElements(shape []int) (n int, ok bool) {
	if len(shape) > MaxDims {
		return 0, false
	}
	n = 1
	for _, d := range shape {
		if d < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(uint64(n), uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, false
		}
		n = int(lo)
	}
	return n, true
}

// byteSize returns the bytes needed for shape with elements of size elem,
// checked against overflow of int64 and int.
func byteSize(shape []int, elem int) (int64, error) {
	n, ok := numElements(shape)
	if !ok {
		return 0, fmt.Errorf("%w: %v: negative, more than %d dimensions, or too large", ErrShape, shape, MaxDims)
	}
	hi, lo := bits.Mul64(uint64(n), uint64(elem))
	if hi != 0 || lo > math.MaxInt {
		return 0, fmt.Errorf("%w: %v of %d-byte elements overflows", ErrShape, shape, elem)
	}
	return int64(lo), nil
}

// cStrides returns the row-major (C order) strides of shape, in elements.
// The caller has checked that the product of shape fits in an int.
func cStrides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= max(shape[i], 1)
	}
	return s
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
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] == 0 {
			return true
		}
		if shape[i] != 1 && strides[i] != acc {
			return false
		}
		acc *= shape[i]
	}
	return true
}
