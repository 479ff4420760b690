//go:build linux || darwin || freebsd

package sys

import "golang.org/x/sys/unix"

// Map maps size bytes of the file fd shared, writable if write, with the
// placement advice adv applied (which is never an error: a kernel without
// it maps small pages faulted on first touch). It counts the mapping
// against vm.max_map_count and refuses it with ENOMEM when the process
// would be left with fewer than MapHeadroom mappings.
func Map(fd int, size int64, write bool, adv Advice) ([]byte, error) {
	return mapAdvised(fd, size, write, adv)
}

// mapShared is the one mmap call: every mapping Map makes comes through
// it, counted.
func mapShared(fd int, size int64, write bool, flags int) ([]byte, error) {
	prot := unix.PROT_READ
	if write {
		prot |= unix.PROT_WRITE
	}
	if err := checkMapLimit(); err != nil {
		return nil, err
	}
	mem, err := unix.Mmap(fd, 0, int(size), prot, unix.MAP_SHARED|flags)
	if err == nil {
		liveMappings.Add(1)
	}
	return mem, err
}

// Unmap undoes Map.
func Unmap(mem []byte) error {
	err := unix.Munmap(mem)
	if err == nil {
		liveMappings.Add(-1)
	}
	return err
}

// ProtectRead makes mem read-only.
func ProtectRead(mem []byte) error { return unix.Mprotect(mem, unix.PROT_READ) }

// Mlock locks mem's pages in memory.
func Mlock(mem []byte) error { return unix.Mlock(mem) }

// Munlock undoes Mlock.
func Munlock(mem []byte) error { return unix.Munlock(mem) }

// Msync flushes mem to its file; flags are SyncAsync, SyncSync and
// SyncInvalidate.
func Msync(mem []byte, flags int) error {
	var f int
	if flags&SyncAsync != 0 {
		f |= unix.MS_ASYNC
	}
	if flags&SyncSync != 0 {
		f |= unix.MS_SYNC
	}
	if flags&SyncInvalidate != 0 {
		f |= unix.MS_INVALIDATE
	}
	return unix.Msync(mem, f)
}
