package shmtensor

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"github.com/shmtensor/shmtensor/internal/units"
	"golang.org/x/sys/unix"
)

// mapFileWith maps the file shared with the placement advice of Populate and
// HugePages applied. Neither advice is ever an error: the kernel may lack
// it (MADV_HUGEPAGE without CONFIG_TRANSPARENT_HUGEPAGE, MADV_POPULATE_READ
// before Linux 5.14) and the mapping then works with small pages faulted
// on first touch.
func mapFileWith(fd int, size int64, write bool, adv advice) ([]byte, error) {
	// Without HugePages, MAP_POPULATE faults everything in with the mmap
	// itself. With it, the advice must come before any fault, so the
	// mapping is populated after madvise instead.
	flags := 0
	if adv&advPopulate != 0 && adv&advHuge == 0 {
		flags = unix.MAP_POPULATE
	}
	mem, err := mapShared(fd, size, write, flags)
	if err != nil {
		return nil, err
	}
	if adv&advHuge != 0 {
		unix.Madvise(mem, unix.MADV_HUGEPAGE)
		if adv&advPopulate != 0 {
			// A read populate was measured faster than
			// MADV_POPULATE_WRITE also for writable tmpfs mappings: a
			// read fault maps a shmem page writable at once.
			unix.Madvise(mem, unix.MADV_POPULATE_READ)
		}
	}
	return mem, nil
}

// reservesThroughMapping reports whether a Create with HugePages on fd
// reserves its pages through the advised mapping rather than with
// fallocate. Only tmpfs needs it: its huge=advise pages are huge only when
// an advised mapping faults them in (fallocate alone gives small pages).
// Elsewhere populating a writable mapping would dirty every page of a disk
// file, which fallocate avoids.
func reservesThroughMapping(fd int) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(fd, &st) == nil && st.Type == unix.TMPFS_MAGIC
}

// reserveMapped allocates every page of a new tmpfs file through its
// writable, advised mapping mem, so that on a huge=advise mount they are
// huge pages. Like fallocate, it fails with ENOSPC when the filesystem runs
// out of space, instead of a SIGBUS later. On kernels without
// MADV_POPULATE_WRITE (before 5.14) it falls back to fallocate.
func reserveMapped(fd int, mem []byte) error {
	err := unix.Madvise(mem, unix.MADV_POPULATE_WRITE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EINVAL):
		return reserve(fd, int64(len(mem)), false)
	case errors.Is(err, syscall.EFAULT), errors.Is(err, syscall.ENOMEM):
		// A fault that would have raised SIGBUS: tmpfs ran out of space
		// (the free-space check before passed, so something else took
		// it meanwhile) or of memory.
		return fmt.Errorf("%w: reserving %s through the mapping: %v", syscall.ENOSPC, units.Bytes(int64(len(mem))), err)
	}
	return fmt.Errorf("reserve %d bytes: %w", len(mem), err)
}

// hugeBytes reads /proc/self/smaps for the PMD-mapped bytes of mem.
func hugeBytes(mem []byte) (int64, error) { return smapsBytes(mem, hugeKeys...) }

// smapsBytes sums the fields keys of /proc/self/smaps over mem's mapping.
func smapsBytes(mem []byte, keys ...string) (int64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lo, hi := memRange(mem)
	return smapsSum(f, lo, hi, keys...)
}
