package shmtensor

// CopyFrom of a transposed view and Fill, beside the builtin copy.

import (
	"fmt"
	"testing"
)

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
