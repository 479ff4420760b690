package strided

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrInvariant is what the panics of a broken internal invariant wrap: a
// bug in shmtensor, never in its caller. Built with the shmtensor_bounds
// tag, shmtensor's newTensor asserts with CheckView that every view's
// elements lie inside its data, which the default At relies on without
// checking.
var ErrInvariant = errors.New("internal error: broken invariant")

// CheckView returns an error unless every element reachable from off
// through shape and strides lies in [0, n): the invariant the callers of
// shmtensor's newTensor guarantee. An empty view reaches nothing, and its off may lie past
// the data (slices of an empty tensor keep the offsets they would have in a
// full one), but not before it: newTensor takes &data[off] when off < n.
func CheckView(n, off int, shape, strides []int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: view of %d elements at offset %d with shape %v and strides %v: "+format,
			append([]any{ErrInvariant, n, off, shape, strides}, args...)...)
	}
	if len(shape) != len(strides) {
		return bad("shape and strides differ in length")
	}
	if len(shape) > MaxDims {
		return bad("more than %d dimensions", MaxDims)
	}
	empty := false
	for _, d := range shape {
		if d < 0 {
			return bad("negative dimension")
		}
		empty = empty || d == 0
	}
	if empty {
		if off < 0 {
			return bad("offset before the data")
		}
		return nil
	}
	lo, hi := int64(off), int64(off)
	for k, d := range shape {
		s := strides[k]
		neg := s < 0
		if neg {
			s = -s
		}
		h, ext := bits.Mul64(uint64(d-1), uint64(s))
		if h != 0 || ext > 1<<62 {
			return bad("axis %d reaches beyond any data", k)
		}
		if neg {
			lo -= int64(ext)
		} else {
			hi += int64(ext)
		}
		if lo < -(1<<62) || hi > 1<<62 {
			return bad("axis %d reaches beyond any data", k)
		}
	}
	if lo < 0 || hi >= int64(n) {
		return bad("elements [%d, %d] reachable, outside the data", lo, hi)
	}
	return nil
}
