//go:build darwin || freebsd

package shmtensor

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On FreeBSD and macOS, POSIX shared memory objects live outside the file
// system. They are opened with the shm_open system call, made here through
// its raw number from x/sys/unix because this package uses no cgo. Neither
// system can enumerate shm objects, so List returns ErrNotSupported there.
//
// This file is compiled by CI for both systems but not run there: the
// behaviour on these platforms is untested (see README, "Platforms").

// maxShmName is the longest name shm_open takes, less the leading '/'
// (PSHMNAMLEN is 31 on macOS; FreeBSD allows a path).
const maxShmName = maxShmNamePlatform

func pathOf(n segName) string { return n.path }

// shmDirHint names where shm objects live, for error messages.
const shmDirHint = "the shm_open system call"

// shmListDir is empty: shm objects have no directory here.
const shmListDir = ""

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

func shmUnlink(name string) error {
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

func openNamed(n segName, flags int) (int, error) {
	if n.shm {
		return shmOpen(n.path, flags, 0)
	}
	return unix.Open(n.path, flags, 0)
}

// pread reads a shm object through a temporary mapping: macOS cannot
// read(2) shm objects at all. An object that another process shrinks
// meanwhile faults the copy, which becomes an error rather than a crash.
func (f *file) pread(p []byte, off int64) (n int, err error) {
	if !f.name.shm {
		return ignoringEINTR2(func() (int, error) { return unix.Pread(f.fd, p, off) })
	}
	if off >= f.size {
		return 0, nil
	}
	mem, err := unix.Mmap(f.fd, 0, int(f.size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, err
	}
	defer unix.Munmap(mem)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			n, err = 0, fmt.Errorf("%w: the object shrank below %d bytes while it was read", ErrNotTensor, f.size)
		}
	}()
	return copy(p, mem[off:]), nil
}

// allocate reports that these systems cannot reserve the pages of a shm
// object; Create falls back to the free-space check.
func allocate(fd int, size int64) error { return errNoAllocate }

// shmCreator makes a shm object exclusively with O_CREAT|O_EXCL. The object
// is named from the start, so Create writes the header's magic last: until
// then a reader finds no magic and refuses the object as not a tensor.
type shmCreator struct {
	fd   int
	name string
}

func newCreator(n segName, mode uint32) (creator, error) {
	if !n.shm {
		return newTempCreator(n.path, mode)
	}
	fd, err := shmOpen(n.path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, mode)
	if err != nil {
		return nil, err
	}
	// shm_open applies the umask; fchmod makes the mode exact where the
	// system allows it on shm objects.
	unix.Fchmod(fd, mode)
	return &shmCreator{fd: fd, name: n.path}, nil
}

func (c *shmCreator) descriptor() int { return c.fd }
func (c *shmCreator) publish() error  { return nil }
func (c *shmCreator) close()          { unix.Close(c.fd) }
func (c *shmCreator) abort() {
	unix.Close(c.fd)
	shmUnlink(c.name)
}

func listShm() ([]string, error) { return nil, ErrNotSupported }

func renameNoReplace(from, to string) error { return errNoRenameFlags }

func unlinkNamed(n segName, f *file) error {
	if n.shm {
		return mapErrno(shmUnlink(n.path), n)
	}
	return unlinkPath(n.path, f)
}
