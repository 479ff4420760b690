package shmtensor

import ()

// The benchmarks pair each tensor operation with the plain-Go loop it
// should keep up with; compare them by the MB/s column. The loops live in
// functions of their own: inside a b.Loop body the compiler keeps every
// call's arguments alive, which stops range-over-func loops from being
// inlined and would measure a cost that real code does not pay.
//
// The sums are over int64, whose additions do not wait on each other, so
// that the loops run at memory speed and iteration overhead shows in
// full.

var benchSizes = []struct {
	name string
	n    int // int64 elements
}{
	{"64KiB", 64 << 10 / 8},
	{"1MiB", 1 << 20 / 8},
	{"16MiB", 16 << 20 / 8},
}

var sink int64

func benchTensor(n int) *Tensor[int64] {
	t := New[int64](n)
	d := t.Data()
	for i := range d {
		d[i] = int64(i % 7)
	}
	return t
}

// fillSeq writes every element, so that the memory is really there and
// not the kernel's shared zero page.
func fillSeq(s []float64) {
	for i := range s {
		s[i] = float64(i)
	}
}
