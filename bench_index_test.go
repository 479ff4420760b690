package shmtensor

// Element access by At and Index, against indexing a slice.

import "testing"

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
