package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/shmtensor/shmtensor"
)

// The access section measures the element-access targets on shared
// segments: At(i, j) against plain indexing of a slice, and a transposing
// CopyFrom against copy() of the same bytes.
const (
	caseIndexInt   = "plain indexing s[i*cols+j], int64 heap slice"
	caseAtInt      = "Tensor.At(i, j), int64 (shared segment)"
	caseIndexFloat = "plain indexing s[i*cols+j], float64 heap slice"
	caseAtFloat    = "Tensor.At(i, j), float64 (shared segment)"
	caseCopyPlain  = "copy() of the same bytes, heap to heap"
	caseCopyT      = "CopyFrom of a transposed view (shared segments)"
)

// accessSide is the side of the square matrices that At walks: 2 MiB of
// int64, so the data stays in cache and the access path, not memory, is
// what is timed.
const accessSide = 512

// sumIndex and sumAt are the two loops compared: the same additions, once
// with the index arithmetic written out on a slice, once through At. They
// are not inlined so that each is compiled once, as in user code.
//
//go:noinline
func sumIndex[T int64 | float64](s []T, rows, cols int) T {
	var sum T
	for i := range rows {
		for j := range cols {
			sum += s[i*cols+j]
		}
	}
	return sum
}

//go:noinline
func sumAt[T int64 | float64](t *shmtensor.Tensor[T], rows, cols int) T {
	var sum T
	for i := range rows {
		for j := range cols {
			sum += t.At(i, j)
		}
	}
	return sum
}

// accessTensor creates a side×side segment filled with 0, 1, 2, ... and a
// heap copy of its data.
func accessTensor[T int64 | float64](tag string, side int) (*shmtensor.Tensor[T], []T, func()) {
	name := shmName(tag)
	t, err := shmtensor.Create[T](name, []int{side, side})
	if err != nil {
		fatal(err)
	}
	d := t.Data()
	for i := range d {
		d[i] = T(i % 1000)
	}
	return t, append([]T(nil), d...), func() { t.Close(); os.Remove(shmDir + "/" + name) }
}

// copySide is the side of the float64 matrices of the transposing copy.
func copySide() int {
	if *quick {
		return 1024
	}
	return 4096
}

func copyLabel() string { return fmt.Sprintf("%d×%d", copySide(), copySide()) }

func benchAccess() []row {
	rounds, batch := 15, 20
	if *quick {
		rounds, batch = 5, 5
	}
	n := copySide()
	ti, si, done := accessTensor[int64]("at-int", accessSide)
	defer done()
	tf, sf, done := accessTensor[float64]("at-float", accessSide)
	defer done()
	wantI, wantF := sumIndex(si, accessSide, accessSide), sumIndex(sf, accessSide, accessSide)
	check := func(got, want any) error {
		if got != want {
			return fmt.Errorf("sum %v, want %v", got, want)
		}
		return nil
	}
	res, err := interleave(rounds, batch, []bcase{
		{name: caseIndexInt, op: func() error { return check(sumIndex(si, accessSide, accessSide), wantI) }},
		{name: caseAtInt, op: func() error { return check(sumAt(ti, accessSide, accessSide), wantI) }},
		{name: caseIndexFloat, op: func() error { return check(sumIndex(sf, accessSide, accessSide), wantF) }},
		{name: caseAtFloat, op: func() error { return check(sumAt(tf, accessSide, accessSide), wantF) }},
	})
	if err != nil {
		fatal(err)
	}
	sz := size{fmt.Sprintf("%d×%d", accessSide, accessSide), accessSide * accessSide * 8}
	var rows []row
	for _, c := range []struct{ c, base string }{
		{caseIndexInt, caseIndexInt}, {caseAtInt, caseIndexInt},
		{caseIndexFloat, caseIndexFloat}, {caseAtFloat, caseIndexFloat},
	} {
		r := newRow("access", c.c, sz, res[c.c], c.base, res[c.base])
		r.Extra = fmt.Sprintf("%.2f ns per element", r.S.Med/float64(accessSide*accessSide))
		rows = append(rows, r)
	}

	// The transposing copy: dst (C order) ← the transpose of src, both in
	// segments, against copy() of as many bytes on the heap.
	src, _, done := accessTensor[float64]("copy-src", n)
	defer done()
	dst, _, done := accessTensor[float64]("copy-dst", n)
	defer done()
	srcT, err := src.Transpose()
	if err != nil {
		fatal(err)
	}
	// Both heap slices are written first: copy() from pages never touched
	// would read the kernel's one zero page, from cache.
	a, b := make([]float64, n*n), slices.Clone(src.Data())
	copy(a, b)
	res, err = interleave(rounds, 1, []bcase{
		{name: caseCopyPlain, op: func() error { copy(a, b); return nil }},
		{name: caseCopyT, op: func() error { return dst.CopyFrom(srcT) }},
	})
	if err != nil {
		fatal(err)
	}
	if dst.At(1, 2) != src.At(2, 1) {
		fatal(fmt.Errorf("CopyFrom of the transpose: dst[1,2] = %v, want src[2,1] = %v", dst.At(1, 2), src.At(2, 1)))
	}
	csz := size{copyLabel(), int64(n * n * 8)}
	for _, c := range []string{caseCopyPlain, caseCopyT} {
		r := newRow("access", c, csz, res[c], caseCopyPlain, res[caseCopyPlain])
		r.Extra = fmtRate(csz.Bytes, r.S.Med) + " copied"
		rows = append(rows, r)
	}
	progress("access: At(i, j) int64 %.2f×, float64 %.2f× the speed of plain indexing; transposing CopyFrom %.2f× copy()",
		1/rows[1].Ratio, 1/rows[3].Ratio, 1/rows[5].Ratio)
	return rows
}

const accessText = `Element access on 512×512 matrices in shared segments (2 MiB of int64 or float64, so they stay in
cache and the access path, not memory, is timed): a double loop summing ` + "`t.At(i, j)`" + ` against the
same loop over a heap slice indexed ` + "`s[i*cols+j]`" + `. Each loop is a separate function compiled
once, as in user code; a batch is 20 sums. The int64 sum is the strict case: its additions are
independent of each other's latency, so plain indexing runs as fast as the loop can issue them; the
float64 sum waits a few cycles for each addition, as most numeric loops do. Below, the transposing
copy: ` + "`dst.CopyFrom(src.Transpose())`" + ` between two 4096×4096 float64 segments against ` + "`copy()`" + ` of
as many bytes between heap slices.

`
