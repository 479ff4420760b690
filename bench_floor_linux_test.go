package shmtensor

// The system-call floors of the segment benchmarks in bench_test.go
// (internal/floor, shared with the bench module).

import (
	"testing"

	"github.com/shmtensor/shmtensor/internal/floor"

	"github.com/shmtensor/shmtensor/internal/sys"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// BenchmarkFloorAttach is the least any attach does: open, fstat, mmap of
// the whole file, munmap, close. It reads no header and validates nothing.
func BenchmarkFloorAttach(b *testing.B) {
	for _, s := range sizesAll {
		b.Run(s.name, func(b *testing.B) {
			name := existingSegment(b, s)
			path := sys.ShmDir + "/" + name
			b.SetBytes(s.bytes)
			b.ReportAllocs()
			for b.Loop() {
				if err := floor.Attach(path, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFloorCreate is the least any create does: an unnamed O_TMPFILE
// in /dev/shm sized by fallocate (reserved) or ftruncate (lazy), mmap,
// munmap, close. Closing the last reference to an unnamed inode frees it,
// so there is nothing to delete.
func BenchmarkFloorCreate(b *testing.B) {
	for _, v := range []struct {
		name    string
		sizes   []benchSize
		reserve bool
	}{
		{"fallocate", sizesSmall, true},
		{"ftruncate", sizesAll, false},
	} {
		b.Run(v.name, func(b *testing.B) {
			for _, s := range v.sizes {
				b.Run(s.name, func(b *testing.B) {
					n := s.bytes + codec.NPYDataOffset
					b.SetBytes(s.bytes)
					b.ReportAllocs()
					for b.Loop() {
						if err := floor.Create(sys.ShmDir, n, v.reserve, ""); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkLiveLock is what the liveness lock adds to an attach: one
// fcntl(F_OFD_SETLK) of a shared lock on byte 2^62 of an open descriptor,
// and its removal when the descriptor is closed, against open + close alone.
func BenchmarkLiveLock(b *testing.B) {
	name := existingSegment(b, sizesAll[0])
	path := sys.ShmDir + "/" + name
	for _, live := range []bool{false, true} {
		b.Run(map[bool]string{false: "open+close", true: "open+lock+close"}[live], func(b *testing.B) {
			for b.Loop() {
				fd, err := sys.Open(path, false)
				if err != nil {
					b.Fatal(err)
				}
				if live {
					if err := sys.MarkLive(fd); err != nil {
						b.Fatal(err)
					}
				}
				sys.Close(fd)
			}
		})
	}
}
