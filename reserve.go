package shmtensor

import (
	"errors"
	"fmt"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// reserve sizes the new object. Without lazy it allocates every page
// (fallocate), turning a later SIGBUS into an ENOSPC now; with lazy it only
// checks that the size fits in the free space and sets the length.
func reserve(fd int, size int64, lazy bool) error {
	if !lazy {
		err := sys.Allocate(fd, size)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sys.ENOSPC) && !errors.Is(err, sys.ErrNoAllocate) {
			return fmt.Errorf("reserve %d bytes: %w", size, err)
		}
		if errors.Is(err, sys.ENOSPC) {
			return spaceError(fd, size)
		}
		// The filesystem cannot preallocate: fall back to the free-space
		// check, the best that can be done there.
	}
	if free, ok := sys.FreeBytes(fd); ok && free < size {
		return spaceError(fd, size)
	}
	if err := sys.Truncate(fd, size); err != nil {
		if errors.Is(err, sys.ENOSPC) {
			return spaceError(fd, size)
		}
		return fmt.Errorf("set size to %d bytes: %w", size, err)
	}
	return nil
}

// reserveExisting allocates the pages of an existing segment of size
// bytes. fallocate with mode 0 allocates only the holes and keeps every
// byte already written.
func reserveExisting(fd int, size int64) error {
	err := sys.Allocate(fd, size)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sys.ENOSPC):
		return spaceError(fd, size)
	case errors.Is(err, sys.ErrNoAllocate):
		return fmt.Errorf("%w: the filesystem cannot reserve pages (fallocate)", ErrNotSupported)
	case errors.Is(err, sys.EBADF):
		return fmt.Errorf("reserve needs the segment open for writing: %w", err)
	}
	return fmt.Errorf("reserve %d bytes: %w", size, err)
}

// reserveFile allocates the pages of the open file f. A descriptor opened
// read-only cannot fallocate: the file is opened again for writing through
// /proc/self/fd, which reaches the same inode.
func reserveFile(f *file) error {
	err := reserveExisting(f.fd, f.size)
	if !errors.Is(err, sys.EBADF) {
		return err
	}
	fd, oerr := sys.ReopenFD(f.fd, true)
	if oerr != nil {
		if errors.Is(oerr, sys.EACCES) || errors.Is(oerr, sys.EPERM) {
			return fmt.Errorf("Reserve needs write permission: %w", permissionError(oerr))
		}
		return err
	}
	defer sys.Close(fd)
	return reserveExisting(fd, f.size)
}

// reserveMapped allocates every page of a new tmpfs file through its
// writable, advised mapping mem, so that on a huge=advise mount they are
// huge pages (see sys.ReservesThroughMapping); where the kernel cannot, it
// reserves as without huge pages.
func reserveMapped(fd int, mem []byte) error {
	err := sys.PopulateWrite(mem)
	if errors.Is(err, sys.ErrNoPopulate) {
		return reserve(fd, int64(len(mem)), false)
	}
	if err != nil && !errors.Is(err, sys.ENOSPC) {
		return fmt.Errorf("reserve %d bytes: %w", len(mem), err)
	}
	return err
}
