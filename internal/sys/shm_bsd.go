//go:build darwin || freebsd

package sys

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// On FreeBSD and macOS, POSIX shared memory objects live outside the file
// system. They are opened with the shm_open system call, made here through
// its raw number from x/sys/unix because this package uses no cgo. Neither
// system can enumerate shm objects.
//
// This file is compiled by CI for both systems but not run there.

const (
	ShmIsFile = false
	ShmDir    = ""
	ShmHint   = "the shm_open system call"
	// MaxShmName is the longest name shm_open takes, less the leading '/'.
	MaxShmName = maxShmNamePlatform
)

// ShmPath returns name: shm objects have no path here.
func ShmPath(name string) string { return name }

// ListShm fails: these systems cannot enumerate shm objects.
func ListShm() ([]string, error) { return nil, errs.ErrNotSupported }

func shmOpen(name string, flags int, mode uint32) (int, error) {
	p, err := unix.BytePtrFromString("/" + name)
	if err != nil {
		return -1, err
	}
	// shm_open takes only the access mode and O_CREAT, O_EXCL, O_TRUNC,
	// O_CLOEXEC; others give EINVAL on FreeBSD.
	flags &= unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL
	var (
		r     uintptr
		errno unix.Errno
	)
	for {
		r, _, errno = unix.Syscall(unix.SYS_SHM_OPEN, uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode))
		if errno != unix.EINTR {
			break
		}
	}
	runtime.KeepAlive(p)
	if errno == unix.ENOSYS {
		return -1, fmt.Errorf("shm_open system call %d not available (FreeBSD kernel without COMPAT_FREEBSD12?); use file:// names: %w", unix.SYS_SHM_OPEN, errno)
	}
	if errno != 0 {
		return -1, errno
	}
	unix.CloseOnExec(int(r))
	return int(r), nil
}

// ShmOpen opens the existing shm object name.
func ShmOpen(name string, write bool) (int, error) { return shmOpen(name, accessMode(write), 0) }

// ShmCreate creates the shm object name exclusively, with mode exact where
// the system lets fchmod set it (shm_open applies the umask).
func ShmCreate(name string, mode uint32) (int, error) {
	fd, err := shmOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, mode)
	if err != nil {
		return -1, err
	}
	unix.Fchmod(fd, mode)
	return fd, nil
}

// ShmUnlink removes the shm object name.
func ShmUnlink(name string) error {
	p, err := unix.BytePtrFromString("/" + name)
	if err != nil {
		return err
	}
	_, _, errno := unix.Syscall(unix.SYS_SHM_UNLINK, uintptr(unsafe.Pointer(p)), 0, 0)
	runtime.KeepAlive(p)
	if errno != 0 {
		return errno
	}
	return nil
}

// ShmPread reads a shm object of size bytes through a temporary mapping:
// macOS cannot read(2) shm objects at all. An object that another process
// shrinks meanwhile faults the copy, which becomes an error wrapping
// errs.ErrNotTensor rather than a crash.
func ShmPread(fd int, size int64, p []byte, off int64) (n int, err error) {
	if off >= size {
		return 0, nil
	}
	mem, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(mem)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			n, err = 0, fmt.Errorf("%w: the object shrank below %d bytes while it was read", errs.ErrNotTensor, size)
		}
	}()
	return copy(p, mem[off:]), nil
}
