package shmtensor

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"github.com/shmtensor/shmtensor/internal/strided"
)

// view returns a tensor over the same memory as t with a new layout,
// keeping t's segment (so it panics as closed with it) and read-only state.
func (t *Tensor[T]) view(off int, shape, strides []int) *Tensor[T] {
	return newTensor(t.data, off, shape, strides, t.seg, t.ro)
}

// viewErr wraps a layout error from a view method.
func viewErr(op string, err error) error { return &Error{Op: op, Err: err} }

// Reshape returns a view of t with the given shape, which must hold as many
// elements as t; one dimension may be -1 and is then inferred.
//
// Reshape never copies. Like numpy it returns a view whenever the elements
// in C order can be reached with plain strides, which includes every
// contiguous tensor and many strided ones (a[:, ::2] reshaped over axes
// that group, for example); where numpy would have to copy it fails with
// ErrNotContiguous, and Clone().Reshape(...) is the copying reshape.
// A wrong element count or more than one -1 fails with ErrShape.
func (t *Tensor[T]) Reshape(shape ...int) (*Tensor[T], error) {
	t.check()
	if slices.Equal(shape, t.shape) {
		// numpy's shortcut, which keeps the strides of length-1 axes.
		return t.view(t.off, slices.Clone(t.shape), slices.Clone(t.strides)), nil
	}
	newShape, err := strided.ResolveShape(shape, t.Len(), elemSize[T]())
	if err != nil {
		return nil, viewErr("reshape", err)
	}
	strides, ok := strided.ReshapeStrides(t.shape, t.strides, newShape)
	if !ok {
		return nil, viewErr("reshape", fmt.Errorf("%w: cannot view shape %v with strides %v as %v without copying", ErrNotContiguous, t.shape, t.strides, newShape))
	}
	off := t.off
	if t.Len() == 0 {
		// An empty tensor's offset is where its elements would start in a
		// full one, bounded by its old shape's span; the new shape's span
		// bounds the new strides alone, so slicing from the old offset
		// could overflow. No element is reached either way.
		off = 0
	}
	return t.view(off, newShape, strides), nil
}

// Range selects indices along one axis like a Python slice
// start:stop:step. Negative Start and Stop count from the end of the axis,
// bounds outside the axis are clamped as Python clamps them, and a negative
// Step walks backwards from Start down to just above Stop.
//
// A Step of 0 means 1. Python refuses a zero step, but in Go an omitted
// field is 0: Range{Start: 2, Stop: 5} must be [2:5], as slice(2, 5) is in
// Python, so the zero Step is the default rather than an error.
//
// Go has no None, so the open ends of a Python slice are written as bounds
// that clamping turns into the ends: math.MaxInt is past the end in either
// direction and math.MinInt before the start. Range{0, math.MaxInt, 1} is
// [0:], Span(-2, math.MaxInt) is [-2:] and Range{math.MaxInt, math.MinInt,
// -1} is [::-1]. Full, Span, Every and Reverse spell the common cases.
type Range struct {
	// Start is the first index, Python's start.
	Start int
	// Stop is the index the selection stops before, Python's stop.
	Stop int
	// Step is the distance between selected indices; 0 means 1.
	Step int
}

// Full selects a whole axis, Python's [:].
func Full() Range { return Range{0, math.MaxInt, 1} }

// Span selects [start:stop]. Pass math.MaxInt as stop for [start:].
func Span(start, stop int) Range { return Range{start, stop, 1} }

// Every selects [::step]: every step-th index from the first one, or for a
// negative step from the last one backwards.
func Every(step int) Range {
	if step < 0 {
		return Range{math.MaxInt, math.MinInt, step}
	}
	return Range{0, math.MaxInt, step}
}

// Reverse selects [::-1], the whole axis backwards.
func Reverse() Range { return Every(-1) }

// indices applies Python's slice.indices to r on an axis of the given
// length and returns the first index, the step and the number of indices
// selected.
func (r Range) indices(length int) (start, step, n int) {
	step = r.Step
	if step == 0 {
		step = 1
	}
	// Python clamps to [0, length] going forwards and to [-1, length-1]
	// going backwards, where -1 stands for "before index 0".
	lo, hi := 0, length
	if step < 0 {
		lo, hi = -1, length-1
	}
	clamp := func(i int) int {
		if i < 0 {
			i += length // cannot overflow: length >= 0
			if i < 0 {
				return lo
			}
			return i
		}
		return min(i, hi)
	}
	start, stop := clamp(r.Start), clamp(r.Stop)
	switch {
	case step > 0 && stop > start:
		n = int((uint(stop-start)-1)/uint(step)) + 1
	case step < 0 && start > stop:
		// uint(-step) is right even for math.MinInt.
		n = int((uint(start-stop)-1)/uint(-step)) + 1
	}
	return start, step, n
}

// Slice returns a view of t with the ranges applied to its leading axes, one
// Range per axis; the remaining axes are kept whole. Results may be empty,
// as in Python. More ranges than axes fail with ErrShape.
func (t *Tensor[T]) Slice(r ...Range) (*Tensor[T], error) {
	t.check()
	if len(r) > len(t.shape) {
		return nil, viewErr("slice", fmt.Errorf("%w: %d ranges for a %d-dimensional tensor", ErrShape, len(r), len(t.shape)))
	}
	shape := slices.Clone(t.shape)
	strides := slices.Clone(t.strides)
	off := t.off
	for k, rk := range r {
		start, step, n := rk.indices(shape[k])
		shape[k] = n
		switch {
		case n == 0:
			// Like numpy, an empty axis keeps its stride and points at the
			// first element, so off stays inside the data.
		case n == 1:
			// The stride of a length-1 axis is never used; numpy still
			// multiplies it by the step, unless that, in bytes, would
			// overflow for a huge step.
			off += start * strides[k]
			if hi, lo := bits.Mul64(uint64(abs(strides[k])), uint64(abs(step))); hi == 0 && lo <= uint64(math.MaxInt/elemSize[T]()) {
				strides[k] *= step
			}
		default:
			// start and every later index are reachable, and so is the
			// step times the stride: no overflow.
			off += start * strides[k]
			strides[k] *= step
		}
	}
	return t.view(off, shape, strides), nil
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

// Index returns the view of t at index i of axis, with that axis removed:
// t.Index(0, 2) is numpy's t[2] and t.Index(1, -1) is t[:, -1]. Negative
// axis and i count from the end. A bad axis fails with ErrShape, an index
// out of range with ErrIndex.
func (t *Tensor[T]) Index(axis, i int) (*Tensor[T], error) {
	t.check()
	ax, ok := strided.NormAxis(axis, len(t.shape))
	if !ok {
		return nil, viewErr("index", fmt.Errorf("%w: axis %d out of range for a %d-dimensional tensor", ErrShape, axis, len(t.shape)))
	}
	n := t.shape[ax]
	j := i
	if j < 0 {
		j += n
	}
	if j < 0 || j >= n {
		return nil, viewErr("index", fmt.Errorf("%w: index %d is out of bounds for axis %d with size %d", ErrIndex, i, axis, n))
	}
	shape := slices.Delete(slices.Clone(t.shape), ax, ax+1)
	strides := slices.Delete(slices.Clone(t.strides), ax, ax+1)
	return t.view(t.off+j*t.strides[ax], shape, strides), nil
}

// Transpose returns a view of t with its axes permuted: axis k of the
// result is axis axes[k] of t, as in numpy. With no axes the order is
// reversed, so a 2-D tensor becomes its matrix transpose. Negative axes
// count from the end. Anything but a permutation of t's axes fails with
// ErrShape.
func (t *Tensor[T]) Transpose(axes ...int) (*Tensor[T], error) {
	t.check()
	nd := len(t.shape)
	shape := make([]int, nd)
	strides := make([]int, nd)
	if len(axes) == 0 {
		for k := range nd {
			shape[k], strides[k] = t.shape[nd-1-k], t.strides[nd-1-k]
		}
		return t.view(t.off, shape, strides), nil
	}
	if len(axes) != nd {
		return nil, viewErr("transpose", fmt.Errorf("%w: %d axes for a %d-dimensional tensor", ErrShape, len(axes), nd))
	}
	var seen [MaxDims]bool
	for k, a := range axes {
		ax, ok := strided.NormAxis(a, nd)
		if !ok || seen[ax] {
			return nil, viewErr("transpose", fmt.Errorf("%w: axes %v are not a permutation of %d axes", ErrShape, axes, nd))
		}
		seen[ax] = true
		shape[k], strides[k] = t.shape[ax], t.strides[ax]
	}
	return t.view(t.off, shape, strides), nil
}
