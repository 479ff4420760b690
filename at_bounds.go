//go:build shmtensor_bounds

package shmtensor

// boundsTag reports whether the package was built with the
// shmtensor_bounds tag, which makes newTensor assert its invariants.
const boundsTag = true

// At returns the element at idx, one index per dimension. It panics on a
// wrong number of indices or an index out of range, like a slice, and never
// allocates.
//
// This is the At of the shmtensor_bounds build: it reads through offset and
// the slice t.data, with every bounds check Go makes, instead of the
// unchecked pointer arithmetic of the default At.
func (t *Tensor[T]) At(idx ...int) T {
	t.check()
	return t.data[t.offset(idx)]
}
