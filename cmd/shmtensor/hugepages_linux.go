package main

import (
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
	"golang.org/x/sys/unix"
)

// hugePages says how much of the segment's resident memory huge pages back.
// It maps the segment read-only and reads one byte of each resident 2 MiB
// region (mincore says which pages are resident), so that the kernel maps
// resident huge pages as such without allocating any page, then reads
// the mapping's HugePageBytes.
func hugePages(name string) (string, bool) {
	seg, err := shmtensor.Open(name, shmtensor.ReadOnly())
	if err != nil {
		return "", false
	}
	defer seg.Close()
	data := seg.Bytes()
	if len(data) == 0 {
		return "", false
	}
	// mincore takes a page-aligned start: data from its first whole page
	// (data starts page-aligned in segments shmtensor creates).
	page := uintptr(os.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	span := data[min((page-start%page)%page, uintptr(len(data))):]
	if len(span) == 0 {
		return "", false
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(span)))
	vec := make([]byte, (uintptr(len(span))+page-1)/page)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, base, uintptr(len(span)), uintptr(unsafe.Pointer(unsafe.SliceData(vec)))); errno != 0 {
		return "", false
	}
	const huge = 2 << 20
	var resident int64
	var touched byte
	for i := range vec {
		if vec[i]&1 == 0 {
			continue
		}
		resident += int64(page)
		off := uintptr(i) * page
		if (base+off)%huge == 0 || i == 0 {
			touched += span[off]
		}
	}
	runtime.KeepAlive(touched) // the reads must happen
	n, err := seg.HugePageBytes()
	if err != nil {
		return "", false
	}
	switch {
	case resident == 0:
		return "none (no page written or read yet)", true
	case n == 0:
		return fmt.Sprintf("none (%s resident in small pages)", units.Bytes(resident)), true
	}
	return fmt.Sprintf("%s of %s resident", units.Bytes(n), units.Bytes(resident)), true
}
