package shmtensor

// Sums over a tensor's elements, by each of its access paths, against a
// sum over a plain slice (bench_test.go says how to read them).

import "testing"

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
