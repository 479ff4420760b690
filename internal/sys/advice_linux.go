package sys

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapAdvised maps with MAP_POPULATE or madvise: neither advice is ever an
// error, the kernel may lack it (MADV_HUGEPAGE without
// CONFIG_TRANSPARENT_HUGEPAGE, MADV_POPULATE_READ before Linux 5.14).
func mapAdvised(fd int, size int64, write bool, adv Advice) ([]byte, error) {
	// Without Huge, MAP_POPULATE faults everything in with the mmap itself.
	// With it, the advice must come before any fault, so the mapping is
	// populated after madvise instead.
	flags := 0
	if adv&Populate != 0 && adv&Huge == 0 {
		flags = unix.MAP_POPULATE
	}
	mem, err := mapShared(fd, size, write, flags)
	if err != nil {
		return nil, err
	}
	if adv&Huge != 0 {
		unix.Madvise(mem, unix.MADV_HUGEPAGE)
		if adv&Populate != 0 {
			// A read populate was measured faster than
			// MADV_POPULATE_WRITE also for writable tmpfs mappings: a
			// read fault maps a shmem page writable at once.
			unix.Madvise(mem, unix.MADV_POPULATE_READ)
		}
	}
	return mem, nil
}

// ReservesThroughMapping reports whether a new file fd with huge pages
// must get its pages through an advised mapping rather than with
// fallocate. Only tmpfs needs it: its huge=advise pages are huge only when
// an advised mapping faults them in (fallocate alone gives small pages).
// Elsewhere populating a writable mapping would dirty every page of a disk
// file, which fallocate avoids.
func ReservesThroughMapping(fd int) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(fd, &st) == nil && st.Type == unix.TMPFS_MAGIC
}

// PopulateWrite allocates every page of the writable mapping mem, so that
// on a huge=advise tmpfs they are huge pages. Like fallocate, it fails with
// ENOSPC when the filesystem runs out of space, instead of a SIGBUS later.
func PopulateWrite(mem []byte) error {
	err := unix.Madvise(mem, unix.MADV_POPULATE_WRITE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.EINVAL):
		return ErrNoPopulate
	case errors.Is(err, syscall.EFAULT), errors.Is(err, syscall.ENOMEM):
		// A fault that would have raised SIGBUS: tmpfs ran out of space
		// or of memory.
		return fmt.Errorf("%w: populating %d bytes through the mapping: %v", syscall.ENOSPC, len(mem), err)
	}
	return err
}

// PopulateRange faults in the pages of mem ahead of a sequential write into
// them: one madvise instead of a page fault for every 4 KiB. Best effort.
func PopulateRange(mem []byte) {
	lo, hi := memRange(mem)
	if lo == hi {
		return
	}
	lo &^= uintptr(os.Getpagesize() - 1)
	unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_POPULATE_READ)
}

// memRange returns the address range of a mapping.
func memRange(mem []byte) (lo, hi uintptr) {
	if len(mem) == 0 {
		return 0, 0
	}
	lo = uintptr(unsafe.Pointer(unsafe.SliceData(mem)))
	return lo, lo + uintptr(len(mem))
}
