package shmtensor

import "testing"

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
