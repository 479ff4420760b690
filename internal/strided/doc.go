// Package strided holds the shape and stride arithmetic, the strided copy and
// fill kernels and the parallel split that shmtensor's views share; it knows
// nothing of segments.
//
// Shapes and strides count elements, not bytes. The kernels take a layout as
// a slice of elements, the offset of the element at index (0, 0, ...) and
// the shape and strides from there; the caller has checked that every element
// the layout reaches lies inside the slice (CheckView states that
// invariant).
package strided

// Elem is the set of element types the kernels move. It has the same type
// set as shmtensor.Number, so a Number type parameter satisfies it.
type Elem interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int |
		~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uint |
		~float32 | ~float64 | ~complex64 | ~complex128
}

// MaxDims is the largest number of dimensions a layout may have: numpy 2's
// limit, and the root package's MaxDims, which asserts the two agree.
const MaxDims = 64
