package strided

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

// forceParallel sends even tiny layouts down the parallel paths, split
// across 4 goroutines (more than a small machine's cores, so that uneven
// and unaligned parts are exercised), until the test ends. Tests using it
// must not run in parallel with others.
func forceParallel(t *testing.T) {
	t.Helper()
	old, procs := ParallelMin, runtime.GOMAXPROCS(4)
	ParallelMin = 1
	t.Cleanup(func() { ParallelMin = old; runtime.GOMAXPROCS(procs) })
}

// layout is a view into a buffer of n elements: the element at index idx
// is at off + idx·strides.
type layout struct {
	n, off  int
	strides []int
}

// randLayout returns a layout of shape cut from a larger C-ordered buffer:
// every axis takes every step-th element of an axis of the buffer, the
// axes come from the buffer's in a random order, and some run backwards.
func randLayout(rng *rand.Rand, shape []int) layout {
	nd := len(shape)
	big := make([]int, nd)
	for k, d := range shape {
		big[k] = max(d*(1+rng.IntN(3)), 1)
	}
	perm := rng.Perm(nd) // axis k of the layout is axis perm[k] of the buffer
	bshape := make([]int, nd)
	for k, p := range perm {
		bshape[p] = big[k]
	}
	bstr := CStrides(bshape)
	n := 1
	for _, d := range bshape {
		n *= d
	}
	l := layout{n: n, strides: make([]int, nd)}
	for k, p := range perm {
		step := big[k] / max(shape[k], 1)
		l.strides[k] = bstr[p] * step
		if shape[k] > 0 && rng.IntN(3) == 0 {
			l.off += (shape[k] - 1) * l.strides[k]
			l.strides[k] = -l.strides[k]
		}
	}
	return l
}

// refCopy is CopyLayout done the obvious way, one index at a time.
func refCopy[T Elem](dst []T, dl layout, src []T, sl layout, shape []int) {
	forEachIndex(shape, func(idx []int) {
		dp, sp := dl.off, sl.off
		for k, i := range idx {
			dp += i * dl.strides[k]
			sp += i * sl.strides[k]
		}
		dst[dp] = src[sp]
	})
}

// forEachIndex calls f with every index of shape in C order.
func forEachIndex(shape []int, f func(idx []int)) {
	if slices.Contains(shape, 0) {
		return
	}
	idx := make([]int, len(shape))
	for {
		f(idx)
		k := len(shape) - 1
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1000
	}
	return s
}

// checkCopy copies between two random layouts of shape with kern (the
// kernel under test) and with refCopy, and compares the buffers.
func checkCopy(t *testing.T, rng *rand.Rand, shape []int, kern func(dst []int, dl layout, src []int, sl layout)) {
	t.Helper()
	dl, sl := randLayout(rng, shape), randLayout(rng, shape)
	for _, l := range []layout{dl, sl} {
		if err := CheckView(l.n, l.off, shape, l.strides); err != nil {
			t.Fatal(err)
		}
	}
	src := seq(sl.n)
	got, want := make([]int, dl.n), make([]int, dl.n)
	kern(got, dl, src, sl)
	refCopy(want, dl, src, sl, shape)
	if !slices.Equal(got, want) {
		t.Fatalf("copy of %v from strides %v into strides %v:\n got %v\nwant %v", shape, sl.strides, dl.strides, got, want)
	}
}

func randShape(rng *rand.Rand, maxDims, maxLen int) []int {
	shape := make([]int, rng.IntN(maxDims+1))
	for k := range shape {
		shape[k] = rng.IntN(maxLen + 1)
	}
	return shape
}

func serialCopy(dst []int, dl layout, src []int, sl layout, shape []int) {
	CopyLayout(dst, dl.off, dl.strides, src, sl.off, sl.strides, shape)
}

func parallelCopy(dst []int, dl layout, src []int, sl layout, shape []int) {
	CopyLayoutPar(dst, dl.off, dl.strides, src, sl.off, sl.strides, shape)
}

// transposeShapes are 2-D sizes around the edges of the transposing copy's
// tiles and blocks.
var transposeShapes = [][]int{{32, 32}, {33, 70}, {37, 129}, {64, 31}, {300, 257}, {513, 35}, {129, 260}}

func TestCopyLayoutMatchesReference(t *testing.T) {
	for _, kernel := range []struct {
		name string
		copy func(dst []int, dl layout, src []int, sl layout, shape []int)
	}{{"serial", serialCopy}, {"parallel", parallelCopy}} {
		t.Run(kernel.name, func(t *testing.T) {
			if kernel.name == "parallel" {
				forceParallel(t)
			}
			rng := rand.New(rand.NewPCG(21, 22))
			for i := range 2000 {
				shape := randShape(rng, 4, 12>>min(i%3, 2))
				checkCopy(t, rng, shape, func(dst []int, dl layout, src []int, sl layout) {
					kernel.copy(dst, dl, src, sl, shape)
				})
			}
			// Transposes, contiguous on both sides (transpose2D) or not
			// (the generic tiled loop), and in 3-D with an outer axis.
			for _, shape := range transposeShapes {
				r, c := shape[0], shape[1]
				dst := make([]int, r*c)
				for _, s := range []struct {
					off     int
					strides []int
				}{{0, []int{1, r}}, {r - 1, []int{-1, r}}, {0, []int{2, 2 * r}}} {
					src := seq(2 * r * c)
					want := make([]int, r*c)
					kernel.copy(dst, layout{r * c, 0, []int{c, 1}}, src, layout{2 * r * c, s.off, s.strides}, shape)
					refCopy(want, layout{r * c, 0, []int{c, 1}}, src, layout{2 * r * c, s.off, s.strides}, shape)
					if !slices.Equal(dst, want) {
						t.Errorf("transposing copy of %v from strides %v differs", shape, s.strides)
					}
				}
			}
			shape := []int{3, 150, 140}
			dl := layout{3 * 150 * 140, 0, CStrides(shape)}
			sl := layout{3 * 150 * 140, 0, []int{150 * 140, 1, 150}}
			src, got, want := seq(sl.n), make([]int, dl.n), make([]int, dl.n)
			kernel.copy(got, dl, src, sl, shape)
			refCopy(want, dl, src, sl, shape)
			if !slices.Equal(got, want) {
				t.Error("3-D tiled copy differs")
			}
		})
	}
}

// TestFillLayoutPar fills random layouts, serially and split across
// goroutines, and checks that exactly their elements change.
func TestFillLayoutPar(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	check := func(t *testing.T) {
		for i := range 2000 {
			shape := randShape(rng, 4, 12>>min(i%3, 2))
			l := randLayout(rng, shape)
			got, want := seq(l.n), seq(l.n)
			FillLayoutPar(got, l.off, shape, l.strides, -1)
			forEachIndex(shape, func(idx []int) {
				p := l.off
				for k, x := range idx {
					p += x * l.strides[k]
				}
				want[p] = -1
			})
			if !slices.Equal(got, want) {
				t.Fatalf("fill of %v with strides %v:\n got %v\nwant %v", shape, l.strides, got, want)
			}
		}
	}
	t.Run("serial", check)
	t.Run("parallel", func(t *testing.T) { forceParallel(t); check(t) })
}

func TestParallelCopyAndFill(t *testing.T) {
	forceParallel(t)
	for _, n := range []int{0, 1, 511, 512, 513, 5000} {
		src := seq(n)
		dst := make([]int, n)
		ParallelCopy(dst, src)
		if !slices.Equal(dst, src) {
			t.Errorf("ParallelCopy of %d elements differs", n)
		}
		ParallelFill(dst, 7)
		if slices.ContainsFunc(dst, func(x int) bool { return x != 7 }) {
			t.Errorf("ParallelFill of %d elements missed some", n)
		}
	}
}

// spanData is on the heap: a local array could live on the stack, which
// moves when it grows, and the addresses compared would differ.
var spanData = make([]float64, 24)

func TestSpan(t *testing.T) {
	d := spanData
	base := uintptr(unsafe.Pointer(&d[0]))
	for _, c := range []struct {
		off            int
		shape, strides []int
		lo, hi         int // element offsets
	}{
		{0, []int{3, 4}, []int{4, 1}, 0, 11},
		{11, []int{3, 4}, []int{-4, -1}, 0, 11},
		{5, []int{2, 2}, []int{1, 12}, 5, 18},
		{7, []int{}, []int{}, 7, 7},
		{3, []int{4}, []int{0}, 3, 3},
	} {
		lo, hi := Span(d, c.off, c.shape, c.strides)
		if lo != base+uintptr(c.lo*8) || hi != base+uintptr(c.hi*8+7) {
			t.Errorf("Span(%d, %v, %v) = [%#x, %#x], want elements [%d, %d] of %#x", c.off, c.shape, c.strides, lo, hi, c.lo, c.hi, base)
		}
	}
}
