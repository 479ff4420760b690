package main

import (
	"math/rand/v2"
	"os"

	"github.com/shmtensor/shmtensor"
	"gonum.org/v1/gonum/mat"
)

const (
	caseSumHeap  = "plain []float64 sum (Go heap)"
	caseSumData  = "sum over Tensor.Data() (shared segment)"
	caseSumAt    = "sum over Tensor.At(i) (shared segment)"
	caseCopy     = "memory bandwidth: copy() of the same bytes"
	caseSumValue = "sum over Tensor.Values() (shared segment)"
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
	var sink float64
	res, err := interleave(rounds, 1, []bcase{
		{caseSumHeap, func() error { sink += sum(heap); return nil }},
		{caseSumData, func() error { sink += sum(t.Data()); return nil }},
		{caseSumAt, func() error {
			var a float64
			for i := range n {
				a += t.At(i)
			}
			sink += a
			return nil
		}},
		{caseCopy, func() error { copy(dst, heap); return nil }},
	})
	if err != nil {
		fatal(err)
	}
	if sink != sink { // keep the sums alive; never true
		fatal(nil)
	}
	base := summarise(res[caseSumHeap])
	var rows []row
	for _, c := range []string{caseSumHeap, caseSumData, caseSumAt, caseCopy} {
		r := newRow("resident", c, sz, res[c], caseSumHeap, res[caseSumHeap])
		r.Extra = fmtRate(sz.Bytes, r.S.Med)
		if c == caseCopy {
			r.Extra += " copied (read + write)"
		}
		rows = append(rows, r)
	}
	rows = append(rows, row{Group: "resident", Case: caseSumValue, Size: sz,
		Skip: "not measured: Values() is not on this branch yet"})
	progress("resident %s: heap sum %s, Data() sum %s (%.2f× the heap speed), copy %s", sz.Label,
		fmtNs(base.Med), fmtNs(rows[1].S.Med), 1/rows[1].Ratio, fmtNs(rows[3].S.Med))
	return rows
}

const (
	caseMulHeap   = "gonum mat.Dense Mul, operands on the Go heap"
	caseMulShared = "gonum mat.Dense Mul, operands in shared segments (mat.NewDense over Data())"
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
	var shared [2]*mat.Dense
	var heap [2]*mat.Dense
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
		shared[i] = mat.NewDense(k, k, d)
		heap[i] = mat.NewDense(k, k, append([]float64(nil), d...))
	}
	var c mat.Dense // sized by the warm-up Mul, reused after
	res, err := interleave(rounds, 1, []bcase{
		{caseMulHeap, func() error { c.Mul(heap[0], heap[1]); return nil }},
		{caseMulShared, func() error { c.Mul(shared[0], shared[1]); return nil }},
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
