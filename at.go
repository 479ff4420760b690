//go:build !shmtensor_bounds

package shmtensor

import "unsafe"

// boundsTag reports whether the package was built with the
// shmtensor_bounds tag, which makes newTensor assert its invariants.
const boundsTag = false

// At returns the element at idx, one index per dimension. It panics on a
// wrong number of indices or an index out of range, like a slice, and never
// allocates. A double loop over At(i, j) runs at a fifth to a half of the
// speed of indexing a slice, depending on the processor and the element
// type (docs/PERFORMANCE.md); in the hottest loops over a contiguous
// tensor, index Data() directly.
func (t *Tensor[T]) At(idx ...int) T {
	// At must stay inlinable (go build -gcflags=-m=2 reports its cost, 78 of
	// 80): inlined, the indices stay on the caller's stack and no call is
	// made. So it spells out offset's loop (keep the two in step), tests the
	// closed flag in the count's branch, and reads strides and data through
	// str and base: every index has been checked against the shape, and
	// newTensor's invariant puts every such element inside data, so those
	// bounds checks could never fail (the shmtensor_bounds build tag
	// replaces this At with one that keeps them). The break after the last
	// index lets the compiler lay the loop out with one taken jump fewer.
	if len(idx) != len(t.shape) || *t.closed {
		panic((*countPanic[T])(t))
	}
	p, s := 0, t.str
	for k, i := range idx {
		if uint(i) >= uint(t.shape[k]) {
			panic(indexPanic{i, k, t.shape})
		}
		p += i * *(*int)(unsafe.Add(s, k*int(unsafe.Sizeof(k))))
		if k == len(idx)-1 {
			break
		}
	}
	return *(*T)(unsafe.Add(t.base, p*int(unsafe.Sizeof(*new(T)))))
}
