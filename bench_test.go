package shmtensor

import (
	"fmt"
	"testing"
)

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

//go:noinline
func sumSlice(s []int64) int64 {
	var sum int64
	for _, v := range s {
		sum += v
	}
	return sum
}

//go:noinline
func sumData(t *Tensor[int64]) int64 {
	var sum int64
	for _, v := range t.Data() {
		sum += v
	}
	return sum
}

//go:noinline
func sumValues(t *Tensor[int64]) int64 {
	var sum int64
	for v := range t.Values() {
		sum += v
	}
	return sum
}

//go:noinline
func sumAt2D(t *Tensor[int64], rows, cols int) int64 {
	var sum int64
	for i := range rows {
		for j := range cols {
			sum += t.At(i, j)
		}
	}
	return sum
}

//go:noinline
func sumAt1D(t *Tensor[int64], n int) int64 {
	var sum int64
	for i := range n {
		sum += t.At(i)
	}
	return sum
}

//go:noinline
func sumAt3D(t *Tensor[int64], n int) int64 {
	var sum int64
	for i := range n {
		for j := range n {
			for k := range n {
				sum += t.At(i, j, k)
			}
		}
	}
	return sum
}

//go:noinline
func sumIndex2D(s []int64, rows, cols int) int64 {
	var sum int64
	for i := range rows {
		for j := range cols {
			sum += s[i*cols+j]
		}
	}
	return sum
}

func BenchmarkSumSlice(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s := benchTensor(sz.n).Data()
			b.SetBytes(int64(8 * sz.n))
			for b.Loop() {
				sink = sumSlice(s)
			}
		})
	}
}

func BenchmarkSumData(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			t := benchTensor(sz.n)
			b.SetBytes(int64(8 * sz.n))
			for b.Loop() {
				sink = sumData(t)
			}
		})
	}
}

func BenchmarkSumValues(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			t := benchTensor(sz.n)
			b.SetBytes(int64(8 * sz.n))
			for b.Loop() {
				sink = sumValues(t)
			}
		})
	}
}

// BenchmarkSumValuesStrided iterates every other element of a heap tensor,
// copied out in batches.
func BenchmarkSumValuesStrided(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			t, _ := benchTensor(2 * sz.n).Slice(Every(2))
			b.SetBytes(int64(8 * sz.n))
			for b.Loop() {
				sink = sumValues(t)
			}
		})
	}
}

// BenchmarkSumValuesSegment iterates a contiguous tensor in shared memory.
func BenchmarkSumValuesSegment(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			name := uniqueName(b)
			t, err := Create[int64](name, []int{sz.n})
			if err != nil {
				b.Fatal(err)
			}
			defer Delete(name)
			defer t.Close()
			copy(t.Data(), benchTensor(sz.n).Data())
			b.SetBytes(int64(8 * sz.n))
			for b.Loop() {
				sink = sumValues(t)
			}
		})
	}
}

const side2D = 512 // 512×512 int64: 2 MiB

func BenchmarkAt2D(b *testing.B) {
	t, _ := benchTensor(side2D*side2D).Reshape(side2D, side2D)
	b.SetBytes(8 * side2D * side2D)
	for b.Loop() {
		sink = sumAt2D(t, side2D, side2D)
	}
}

// BenchmarkAt1D and BenchmarkAt3D run At with one and three indices over the
// same 2 MiB as BenchmarkAt2D, to show how At's cost grows with the number of
// dimensions.
func BenchmarkAt1D(b *testing.B) {
	t := benchTensor(side2D * side2D)
	b.SetBytes(8 * side2D * side2D)
	for b.Loop() {
		sink = sumAt1D(t, side2D*side2D)
	}
}

func BenchmarkAt3D(b *testing.B) {
	t, _ := benchTensor(side2D*side2D).Reshape(64, 64, 64)
	b.SetBytes(8 * side2D * side2D)
	for b.Loop() {
		sink = sumAt3D(t, 64)
	}
}

func BenchmarkIndex2DSlice(b *testing.B) {
	s := benchTensor(side2D * side2D).Data()
	b.SetBytes(8 * side2D * side2D)
	for b.Loop() {
		sink = sumIndex2D(s, side2D, side2D)
	}
}

//go:noinline
func sumAt2DFloat(t *Tensor[float64], rows, cols int) float64 {
	var sum float64
	for i := range rows {
		for j := range cols {
			sum += t.At(i, j)
		}
	}
	return sum
}

//go:noinline
func sumIndex2DFloat(s []float64, rows, cols int) float64 {
	var sum float64
	for i := range rows {
		for j := range cols {
			sum += s[i*cols+j]
		}
	}
	return sum
}

var sinkF float64

// BenchmarkAt2DFloat64 and BenchmarkIndex2DSliceFloat64 repeat the pair
// with a float64 sum, where each addition waits for the previous one (a
// few cycles), as in most numeric loops; At's checks partly overlap it.
func BenchmarkAt2DFloat64(b *testing.B) {
	t := New[float64](side2D, side2D)
	fillSeq(t.Data())
	b.SetBytes(8 * side2D * side2D)
	for b.Loop() {
		sinkF = sumAt2DFloat(t, side2D, side2D)
	}
}

func BenchmarkIndex2DSliceFloat64(b *testing.B) {
	s := make([]float64, side2D*side2D)
	fillSeq(s)
	b.SetBytes(8 * side2D * side2D)
	for b.Loop() {
		sinkF = sumIndex2DFloat(s, side2D, side2D)
	}
}

func BenchmarkCopyFromTransposed(b *testing.B) {
	for _, n := range []int{1024, 4096} {
		b.Run(fmt.Sprintf("%dx%d", n, n), func(b *testing.B) {
			src := New[float64](n, n)
			fillSeq(src.Data())
			srcT, _ := src.Transpose()
			dst := New[float64](n, n)
			b.SetBytes(int64(8 * n * n))
			for b.Loop() {
				if err := dst.CopyFrom(srcT); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCopyBuiltin(b *testing.B) {
	for _, mib := range []int{8, 128} {
		b.Run(fmt.Sprintf("%dMiB", mib), func(b *testing.B) {
			n := mib << 20 / 8
			src := make([]float64, n)
			fillSeq(src)
			dst := make([]float64, n)
			b.SetBytes(int64(8 * n))
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}

func BenchmarkFill(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			t := New[float64](sz.n)
			b.SetBytes(int64(8 * sz.n))
			for b.Loop() {
				t.Fill(1.5)
			}
		})
		b.Run(sz.name+"/strided", func(b *testing.B) {
			t, _ := New[float64](2 * sz.n).Slice(Every(2))
			b.SetBytes(int64(8 * sz.n))
			for b.Loop() {
				t.Fill(1.5)
			}
		})
	}
}

// Segment benchmarks, each beside the system-call floor it is measured
// against (bench_floor_linux_test.go): the fewest calls any library needs
// for the same job. Compare within one run (benchstat or by eye); the
// ratios, not the absolute numbers, are what carries from machine to
// machine. cd bench && go run . measures the same interleaved, with ratios.
//
//	go test -run '^$' -bench 'Create|Attach|Floor|Stat|List' -benchmem

// benchSize is one segment size: the bytes of float64 data it holds.
type benchSize struct {
	name  string
	bytes int64
}

var (
	sizesSmall = []benchSize{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}, {"64MiB", 64 << 20}}
	sizesAll   = append(sizesSmall[:len(sizesSmall):len(sizesSmall)], benchSize{"1GiB", 1 << 30})
)

// shape returns the 1-D float64 shape holding s's bytes.
func (s benchSize) shape() []int { return []int{int(s.bytes / 8)} }

// existingSegment creates a lazy float64 segment of s's size for the
// attach benchmarks and returns its name; it is removed when b ends.
func existingSegment(b *testing.B, s benchSize) string {
	b.Helper()
	name := uniqueName(b)
	t, err := Create[float64](name, s.shape(), Lazy())
	if err != nil {
		b.Fatal(err)
	}
	t.Close()
	return name
}

// createBench creates and deletes a segment each iteration. Create is
// exclusive, so the name must be free again before the next one: Delete is
// part of what is timed, as it is part of any create-use-drop cycle.
func createBench(b *testing.B, sizes []benchSize, opts ...Option) {
	for _, s := range sizes {
		b.Run(s.name, func(b *testing.B) {
			name := uniqueName(b)
			shape := s.shape()
			b.SetBytes(s.bytes)
			b.ReportAllocs()
			for b.Loop() {
				t, err := Create[float64](name, shape, opts...)
				if err != nil {
					b.Fatal(err)
				}
				if err := Delete(name); err != nil {
					b.Fatal(err)
				}
				t.Close()
			}
		})
	}
}

// BenchmarkCreate is Create with its pages reserved (fallocate), then
// Delete and Close.
func BenchmarkCreate(b *testing.B) { createBench(b, sizesSmall) }

// BenchmarkCreateLazy is Create(Lazy()) (statfs + ftruncate), then Delete
// and Close.
func BenchmarkCreateLazy(b *testing.B) { createBench(b, sizesAll, Lazy()) }

// BenchmarkAttach is Attach and Close of an existing segment.
func BenchmarkAttach(b *testing.B) {
	for _, s := range sizesAll {
		b.Run(s.name, func(b *testing.B) {
			name := existingSegment(b, s)
			b.SetBytes(s.bytes)
			b.ReportAllocs()
			for b.Loop() {
				t, err := Attach[float64](name)
				if err != nil {
					b.Fatal(err)
				}
				t.Close()
			}
		})
	}
}

// BenchmarkStat reads the header of a 1 MiB segment without mapping it.
func BenchmarkStat(b *testing.B) {
	name := uniqueName(b)
	t, err := Create[float64](name, []int{1 << 17}, Lazy())
	if err != nil {
		b.Fatal(err)
	}
	t.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Stat(name); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkList lists shared memory holding (at least) 100 small tensor
// segments; other programs' objects in /dev/shm are listed too.
func BenchmarkList(b *testing.B) {
	b.Run("100segments", func(b *testing.B) {
		for range 100 {
			t, err := Create[float64](uniqueName(b), []int{16}, Lazy())
			if err != nil {
				b.Fatal(err)
			}
			t.Close()
		}
		b.ReportAllocs()
		for b.Loop() {
			infos, err := List()
			if err != nil {
				b.Fatal(err)
			}
			if len(infos) < 100 {
				b.Fatalf("List found %d segments, want at least 100", len(infos))
			}
		}
	})
}
