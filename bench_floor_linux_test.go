package shmtensor

// The system-call floors of the segment benchmarks in bench_test.go,
// written directly against Linux's calls (O_TMPFILE, fallocate).

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/sys"
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
				if err := floorAttach(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func floorAttach(path string) error {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	mem, err := unix.Mmap(fd, 0, int(st.Size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	return unix.Munmap(mem)
}

// BenchmarkFloorCreate is the least any create does: an unnamed O_TMPFILE
// in /dev/shm sized by fallocate (reserved) or ftruncate (lazy), mmap,
// munmap, close. Closing the last reference to an unnamed inode frees it,
// so there is nothing to delete.
func BenchmarkFloorCreate(b *testing.B) {
	for _, v := range []struct {
		name  string
		sizes []benchSize
		size  func(fd int, n int64) error
	}{
		{"fallocate", sizesSmall, func(fd int, n int64) error { return unix.Fallocate(fd, 0, 0, n) }},
		{"ftruncate", sizesAll, unix.Ftruncate},
	} {
		b.Run(v.name, func(b *testing.B) {
			for _, s := range v.sizes {
				b.Run(s.name, func(b *testing.B) {
					n := s.bytes + codec.NPYDataOffset
					b.SetBytes(s.bytes)
					b.ReportAllocs()
					for b.Loop() {
						if err := floorCreate(n, v.size); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

func floorCreate(n int64, size func(fd int, n int64) error) error {
	fd, err := unix.Open(sys.ShmDir, unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := size(fd, n); err != nil {
		return err
	}
	mem, err := unix.Mmap(fd, 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return err
	}
	return unix.Munmap(mem)
}
