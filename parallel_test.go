package shmtensor

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/shmtensor/shmtensor/internal/strided"
	"gonum.org/v1/gonum/mat"
)

// forceParallel sends even tiny tensors down the parallel paths, split
// across 4 goroutines (more than this machine's cores, so that uneven and
// unaligned parts are exercised), until the test ends. Tests using it must
// not run in parallel with others.
func forceParallel(t *testing.T) {
	t.Helper()
	old, procs := strided.ParallelMin, runtime.GOMAXPROCS(4)
	strided.ParallelMin = 1
	t.Cleanup(func() { strided.ParallelMin = old; runtime.GOMAXPROCS(procs) })
}

// TestCopyFromParallel runs the CopyFrom tests, overlapping views of one
// tensor included, with every copy split across goroutines.
func TestCopyFromParallel(t *testing.T) {
	forceParallel(t)
	TestCopyFromOverlapping(t)
	TestCopyFromRandom(t)
}

// TestParallelMatchesSerial compares Fill, CopyFrom and Clone on random
// views split across goroutines with the same operations done serially.
func TestParallelMatchesSerial(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 2))
	serial := func(f func()) {
		old := strided.ParallelMin
		strided.ParallelMin = maxInt
		defer func() { strided.ParallelMin = old }()
		f()
	}
	forceParallel(t)
	for i := range 1500 {
		shape := randShape(rng, 4, 60>>min(i%4, 3))
		seed := rng.Uint64()
		a, b := arange[float32](shape...), arange[float32](shape...)
		va := randomView(rand.New(rand.NewPCG(seed, 3)), a, 4)
		vb := randomView(rand.New(rand.NewPCG(seed, 3)), b, 4)

		// Fill.
		va.Fill(-1)
		serial(func() { vb.Fill(-1) })
		if !slices.Equal(a.Data(), b.Data()) {
			t.Fatalf("Fill of %v/%v differs from the serial Fill", va.shape, va.strides)
		}
		// Clone.
		ca := va.Clone()
		var cb *Tensor[float32]
		serial(func() { cb = vb.Clone() })
		if !slices.Equal(ca.Data(), cb.Data()) || !slices.Equal(ca.Data(), values(va)) {
			t.Fatalf("Clone of %v/%v differs from the serial Clone", va.shape, va.strides)
		}
		// CopyFrom from a differently laid-out source, in the same memory
		// half of the time.
		srcA, srcB := arange[float32](shape...), arange[float32](shape...)
		if rng.IntN(2) == 0 {
			srcA, srcB = a, b
		}
		sa, ok := viewOfShape(rand.New(rand.NewPCG(seed, 4)), srcA, va.shape)
		if !ok {
			continue
		}
		sb := newTensor(srcB.data, sa.off, sa.shape, sa.strides, nil, false)
		if err := va.CopyFrom(sa); err != nil {
			t.Fatal(err)
		}
		serial(func() {
			if err := vb.CopyFrom(sb); err != nil {
				t.Fatal(err)
			}
		})
		if !slices.Equal(a.Data(), b.Data()) {
			t.Fatalf("CopyFrom %v/%v ← %v/%v differs from the serial CopyFrom", va.shape, va.strides, sa.shape, sa.strides)
		}
	}
}

func TestFromMatrixParallel(t *testing.T) {
	forceParallel(t)
	rng := rand.New(rand.NewPCG(5, 5))
	for _, sz := range [][2]int{{1, 1}, {3, 700}, {700, 3}, {300, 257}, {513, 1030}} {
		r, c := sz[0], sz[1]
		big := mat.NewDense(r+2, c+3, nil)
		for i := range r + 2 {
			for j := range c + 3 {
				big.Set(i, j, rng.Float64())
			}
		}
		sub := big.Slice(1, r+1, 2, c+2) // a stride wider than its columns
		whole := mat.DenseCopyOf(sub)
		for _, m := range []mat.Matrix{sub, whole, sub.T(), whole.T()} {
			mr, mc := m.Dims()
			want := make([]float64, mr*mc)
			for i := range mr {
				for j := range mc {
					want[i*mc+j] = m.At(i, j)
				}
			}
			x, err := FromMatrix(uniqueName(t), m)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(x.Data(), want) {
				t.Errorf("FromMatrix of a %d×%d %T differs from m.At", mr, mc, m)
			}
			x.Close()
		}
	}
}

// TestCloneLarge clones big tensors, contiguous and strided, over heap
// memory left full of garbage, so that an element the copy missed in the
// unzeroed result would show.
func TestCloneLarge(t *testing.T) {
	const n = 3<<20/8 + 5 // past strided's noZeroMin, not a whole page
	for range 4 {
		junk := make([]float64, 2*n)
		for i := range junk {
			junk[i] = -1
		}
		runtime.KeepAlive(junk)
	}
	runtime.GC()
	src := New[float64](n)
	for i, d := 0, src.Data(); i < n; i++ {
		d[i] = float64(i)
	}
	c := src.Clone()
	for i, v := range c.Data() {
		if v != float64(i) {
			t.Fatalf("Clone: element %d is %v, want %d", i, v, i)
		}
	}
	// A transposed view: the strided copy must also write every element.
	sq := New[complex128](1024, 1025)
	for i, d := 0, sq.Data(); i < len(d); i++ {
		d[i] = complex(float64(i), 1)
	}
	tr, _ := sq.Transpose()
	ct := tr.Clone()
	if !slices.Equal(ct.Shape(), []int{1025, 1024}) || ct.Data() == nil {
		t.Fatalf("Clone of a transposed view: shape %v, contiguous %v", ct.Shape(), ct.Data() != nil)
	}
	for i := range 1025 {
		for j := range 1024 {
			if got, want := ct.At(i, j), complex(float64(j*1025+i), 1); got != want {
				t.Fatalf("Clone of a transposed view: [%d, %d] is %v, want %v", i, j, got, want)
			}
		}
	}
}
