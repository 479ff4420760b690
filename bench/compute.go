package main

import (
	"fmt"
	"math/rand/v2"
	"os"

	"github.com/shmtensor/shmtensor"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

const (
	caseSumHeap   = "plain loop sum, Go heap slice"
	caseSumData   = "plain loop sum over Tensor.Data() (shared segment)"
	caseSumAt     = "loop over Tensor.At(i) (shared segment)"
	caseFSumHeap  = "gonum floats.Sum (vectorised), Go heap slice"
	caseFSumData  = "gonum floats.Sum over Tensor.Data() (shared segment)"
	caseCopy      = "memory bandwidth: copy() of the same bytes, heap to heap"
	caseSumValues = "loop over Tensor.Values() (shared segment)"
)

// benchResident compares reading data that is already resident in a
// segment with reading a heap slice, against memory bandwidth.
func benchResident() []row {
	sz := mib256
	rounds := 9
	if *quick {
		sz, rounds = mib16, 5
	}
	n := int(sz.Bytes / 8)
	name := shmName("resident")
	t, err := shmtensor.Create[float64](name, []int{n})
	if err != nil {
		fatal(err)
	}
	defer os.Remove(shmDir + "/" + name)
	defer t.Close()
	fillData(t.Data())
	heap := make([]float64, n)
	fillData(heap)
	dst := make([]float64, n)
	want := sum(heap)
	check := func(got float64) error {
		if got != want {
			return fmt.Errorf("sum %v, want %v", got, want)
		}
		return nil
	}
	res, err := interleave(rounds, 1, []bcase{
		{name: caseSumHeap, op: func() error { return check(sum(heap)) }},
		{name: caseSumData, op: func() error { return check(sum(t.Data())) }},
		{name: caseSumAt, op: func() error {
			var a float64
			for i := range n {
				a += t.At(i)
			}
			return check(a)
		}},
		{name: caseFSumHeap, op: func() error { return check(floats.Sum(heap)) }},
		{name: caseFSumData, op: func() error { return check(floats.Sum(t.Data())) }},
		{name: caseCopy, op: func() error { copy(dst, heap); return nil }},
		{name: caseSumValues, op: func() error {
			var a float64
			for v := range t.Values() {
				a += v
			}
			return check(a)
		}},
	})
	if err != nil {
		fatal(err)
	}
	var rows []row
	for _, c := range []struct{ c, base string }{
		{caseSumHeap, caseSumHeap}, {caseSumData, caseSumHeap}, {caseSumAt, caseSumHeap},
		{caseFSumHeap, caseSumHeap}, {caseFSumData, caseFSumHeap}, {caseCopy, caseSumHeap},
		{caseSumValues, caseSumHeap},
	} {
		r := newRow("resident", c.c, sz, res[c.c], c.base, res[c.base])
		r.Extra = fmtRate(sz.Bytes, r.S.Med)
		if c.c == caseCopy {
			r.Extra += " copied (each byte read and written)"
		}
		rows = append(rows, r)
	}
	progress("resident %s: heap loop %s, Data() loop %s (%.2f× the heap speed), floats.Sum heap %s, Data() %s, copy %s", sz.Label,
		fmtNs(rows[0].S.Med), fmtNs(rows[1].S.Med), 1/rows[1].Ratio, fmtNs(rows[3].S.Med), fmtNs(rows[4].S.Med), fmtNs(rows[5].S.Med))
	return rows
}

const (
	caseMulHeap   = "gonum mat.Dense Mul, operands on the Go heap"
	caseMulShared = "gonum mat.Dense Mul, operands and result in shared segments (shmtensor.Dense)"
)

// benchMul multiplies two 512×512 matrices with gonum, once with operands
// in shared segments and once on the heap.
func benchMul() []row {
	const k = 512
	sz := size{"512×512", k * k * 8}
	rounds := 15
	if *quick {
		rounds = 3
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var shared [3]*mat.Dense
	var heap [3]*mat.Dense
	for i := range shared {
		name := shmName("mul")
		t, err := shmtensor.Create[float64](name, []int{k, k})
		if err != nil {
			fatal(err)
		}
		defer os.Remove(shmDir + "/" + name)
		defer t.Close()
		d := t.Data()
		for j := range d {
			d[j] = rng.Float64()
		}
		if shared[i], err = shmtensor.Dense(t); err != nil {
			fatal(err)
		}
		heap[i] = mat.NewDense(k, k, append([]float64(nil), d...))
	}
	// The third pair is the result: C = A·B written in place.
	res, err := interleave(rounds, 1, []bcase{
		{name: caseMulHeap, op: func() error { heap[2].Mul(heap[0], heap[1]); return nil }},
		{name: caseMulShared, op: func() error { shared[2].Mul(shared[0], shared[1]); return nil }},
	})
	if err != nil {
		fatal(err)
	}
	base := summarise(res[caseMulHeap])
	var rows []row
	for _, cs := range []string{caseMulHeap, caseMulShared} {
		r := newRow("mul", cs, sz, res[cs], caseMulHeap, res[caseMulHeap])
		r.Extra = fmtGflops(2*k*k*k, r.S.Med)
		rows = append(rows, r)
	}
	progress("gonum Mul 512×512: heap %s, shared %s (shared/heap speed %.2f)", fmtNs(base.Med), fmtNs(rows[1].S.Med), 1/rows[1].Ratio)
	return rows
}
