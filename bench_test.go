package shmtensor

import (
	"fmt"
	"testing"
)

// The benchmarks pair each tensor operation with the plain-Go loop it
// should keep up with; compare them by the MB/s column.

var benchSizes = []struct {
	name string
	n    int // float64 elements
}{
	{"64KiB", 64 << 10 / 8},
	{"1MiB", 1 << 20 / 8},
	{"16MiB", 16 << 20 / 8},
}

var sinkF float64

func benchTensor(n int) *Tensor[float64] {
	t := New[float64](n)
	d := t.Data()
	for i := range d {
		d[i] = float64(i % 7)
	}
	return t
}

func BenchmarkSumSlice(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			s := benchTensor(sz.n).Data()
			b.SetBytes(int64(8 * sz.n))
			for b.Loop() {
				var sum float64
				for _, v := range s {
					sum += v
				}
				sinkF = sum
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
				var sum float64
				for _, v := range t.Data() {
					sum += v
				}
				sinkF = sum
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
				var sum float64
				for v := range t.Values() {
					sum += v
				}
				sinkF = sum
			}
		})
	}
}

// BenchmarkSumValuesStrided iterates every other element, the odometer path.
func BenchmarkSumValuesStrided(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run(sz.name, func(b *testing.B) {
			t, _ := benchTensor(2 * sz.n).Slice(Every(2))
			b.SetBytes(int64(8 * sz.n))
			for b.Loop() {
				var sum float64
				for v := range t.Values() {
					sum += v
				}
				sinkF = sum
			}
		})
	}
}

const side2D = 512 // 512×512 float64: 2 MiB

func BenchmarkAt2D(b *testing.B) {
	t, _ := benchTensor(side2D*side2D).Reshape(side2D, side2D)
	b.SetBytes(8 * side2D * side2D)
	for b.Loop() {
		var sum float64
		for i := range side2D {
			for j := range side2D {
				sum += t.At(i, j)
			}
		}
		sinkF = sum
	}
}

func BenchmarkIndex2DSlice(b *testing.B) {
	s := benchTensor(side2D * side2D).Data()
	rows, cols := side2D, side2D
	b.SetBytes(8 * side2D * side2D)
	for b.Loop() {
		var sum float64
		for i := range rows {
			for j := range cols {
				sum += s[i*cols+j]
			}
		}
		sinkF = sum
	}
}

func BenchmarkCopyFromTransposed(b *testing.B) {
	for _, n := range []int{1024, 4096} {
		b.Run(fmt.Sprintf("%dx%d", n, n), func(b *testing.B) {
			src, _ := benchTensor(n*n).Reshape(n, n)
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
			src := benchTensor(n).Data()
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
