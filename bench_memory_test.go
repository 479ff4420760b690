package shmtensor

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/shmtensor/shmtensor/internal/strided"
	"gonum.org/v1/gonum/mat"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// Benchmarks of the memory-placement and parallel bulk work (issue #14).
// Compare the sub-benchmarks of one run by their MB/s; cd bench && go run
// . -only memory measures the same interleaved and prints the ratios.
//
//	go test -run '^$' -bench 'Bulk|Populate|Threshold|Stream|HugePages|FromMatrix' -benchtime 20x

// serialBulk makes the bulk operations single-goroutine until b ends.
func serialBulk(b *testing.B) {
	old := strided.ParallelMin
	strided.ParallelMin = maxInt
	b.Cleanup(func() { strided.ParallelMin = old })
}

// bulkModes runs f once single-goroutine and once split across
// GOMAXPROCS goroutines.
func bulkModes(b *testing.B, f func(b *testing.B)) {
	b.Run("serial", func(b *testing.B) { serialBulk(b); f(b) })
	b.Run(fmt.Sprintf("parallel%d", runtime.GOMAXPROCS(0)), f)
}

const bulkBytes = 256 << 20

// BenchmarkBulk is Fill, CopyFrom (contiguous and transposing) and Clone of
// 256 MiB of float64 in shared segments, with copy() of the same bytes
// between heap slices, whole and split by hand, as the yardstick.
func BenchmarkBulk(b *testing.B) {
	n := bulkBytes / 8
	side := 4096 // 4096² float64 = 128 MiB per side of the transpose
	mk := func(b *testing.B, shape ...int) *Tensor[float64] {
		t, err := Create[float64](uniqueName(b), shape)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { t.Close() })
		fillSeq(t.Data())
		return t
	}
	b.Run("Fill", func(b *testing.B) {
		bulkModes(b, func(b *testing.B) {
			t := mk(b, n)
			b.SetBytes(bulkBytes)
			for b.Loop() {
				t.Fill(1.5)
			}
		})
	})
	b.Run("CopyFrom", func(b *testing.B) {
		bulkModes(b, func(b *testing.B) {
			dst, src := mk(b, n), mk(b, n)
			b.SetBytes(bulkBytes)
			for b.Loop() {
				dst.CopyFrom(src)
			}
		})
	})
	b.Run("CopyFromTransposed", func(b *testing.B) {
		bulkModes(b, func(b *testing.B) {
			dst, src := mk(b, side, side), mk(b, side, side)
			srcT, _ := src.Transpose()
			b.SetBytes(int64(8 * side * side))
			for b.Loop() {
				dst.CopyFrom(srcT)
			}
		})
	})
	b.Run("Clone", func(b *testing.B) {
		bulkModes(b, func(b *testing.B) {
			src := mk(b, n)
			b.SetBytes(bulkBytes)
			for b.Loop() {
				src.Clone()
			}
		})
	})
	b.Run("copy", func(b *testing.B) {
		src, dst := make([]float64, n), make([]float64, n)
		fillSeq(src)
		copy(dst, src)
		b.Run("whole", func(b *testing.B) {
			b.SetBytes(bulkBytes)
			for b.Loop() {
				copy(dst, src)
			}
		})
		b.Run("split", func(b *testing.B) {
			w := runtime.GOMAXPROCS(0)
			b.SetBytes(bulkBytes)
			for b.Loop() {
				strided.ParallelFor(n, w, 512, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
			}
		})
	})
}

// BenchmarkThreshold times Fill of contiguous float64 tensors of growing
// size on one goroutine and split in two, to place strided.ParallelMin.
func BenchmarkThreshold(b *testing.B) {
	for _, kib := range []int{256, 512, 1024, 2048, 4096, 8192} {
		n := kib << 10 / 8
		t := New[float64](n)
		fillSeq(t.Data())
		old := strided.ParallelMin
		for _, mode := range []struct {
			name string
			min  int
		}{{"serial", maxInt}, {"split", 1}} {
			b.Run(fmt.Sprintf("%dKiB/%s", kib, mode.name), func(b *testing.B) {
				strided.ParallelMin = mode.min
				defer func() { strided.ParallelMin = old }()
				b.SetBytes(int64(8 * n))
				for b.Loop() {
					t.Fill(2.5)
				}
			})
		}
	}
}

// BenchmarkPopulate attaches a resident 256 MiB segment and writes one
// byte of every 4 KiB page, with and without Populate.
func BenchmarkPopulate(b *testing.B) {
	const size = 256 << 20
	name := uniqueName(b)
	t, err := Create[uint8](name, []int{size})
	if err != nil {
		b.Fatal(err)
	}
	t.Fill(1)
	t.Close()
	for _, c := range []struct {
		name string
		opts []Option
	}{{"plain", nil}, {"Populate", []Option{Populate()}}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				a, err := Attach[uint8](name, c.opts...)
				if err != nil {
					b.Fatal(err)
				}
				d := a.Data()
				for i := 0; i < len(d); i += 4096 {
					d[i] = 2
				}
				a.Close()
			}
		})
	}
}

// BenchmarkStream exports a resident 256 MiB segment to a file on tmpfs
// and on the disk (the test's temporary directory) with WriteTo, and
// imports the file back with Import; one goroutine against GOMAXPROCS.
func BenchmarkStream(b *testing.B) {
	const size = 256 << 20
	t, err := Create[uint8](uniqueName(b), []int{size})
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	t.Fill(3)
	if sys.ShmDir == "" {
		b.Skip("no shared-memory directory to write a file in")
	}
	shm, err := os.MkdirTemp(sys.ShmDir, "shmtensor-bench-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(shm)
	for _, dir := range []struct{ name, path string }{{"tmpfs", shm}, {"disk", b.TempDir()}} {
		out := filepath.Join(dir.path, "out.npy")
		b.Run("WriteTo/"+dir.name, func(b *testing.B) {
			bulkModes(b, func(b *testing.B) {
				b.SetBytes(size)
				for b.Loop() {
					f, err := os.Create(out)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := t.Segment().WriteTo(f); err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
			})
		})
		b.Run("Import/"+dir.name, func(b *testing.B) {
			bulkModes(b, func(b *testing.B) {
				name := uniqueName(b)
				b.SetBytes(size)
				for b.Loop() {
					f, err := os.Open(out)
					if err != nil {
						b.Fatal(err)
					}
					s, err := Import(name, f)
					f.Close()
					if err != nil {
						b.Fatal(err)
					}
					s.Close()
					Delete(name)
				}
			})
		})
	}
}

// BenchmarkFromMatrix copies a 4096×4096 gonum matrix (128 MiB) into a new
// segment, one goroutine against GOMAXPROCS.
func BenchmarkFromMatrix(b *testing.B) {
	const n = 4096
	m := mat.NewDense(n, n, nil)
	fillSeq(m.RawMatrix().Data)
	bulkModes(b, func(b *testing.B) {
		name := uniqueName(b)
		b.SetBytes(8 * n * n)
		for b.Loop() {
			t, err := FromMatrix(name, m)
			if err != nil {
				b.Fatal(err)
			}
			t.Close()
			Delete(name)
		}
	})
}
