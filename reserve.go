package shmtensor

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/shmtensor/shmtensor/internal/sys"
	"github.com/shmtensor/shmtensor/internal/units"
)

// reserve sizes the new object. Without lazy it allocates every page
// (fallocate), turning a later SIGBUS into an ENOSPC now; with lazy it only
// checks that the size fits in the free space and sets the length.
func reserve(fd int, size int64, lazy bool) error {
	if !lazy {
		if err := checkMemoryLimit(fd, size); err != nil {
			return err
		}
		err := sys.Allocate(fd, size)
		if err == nil {
			return nil
		}
		if errors.Is(err, sys.ENOMEM) {
			return memoryLimitError(fd, size, err)
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
	if st, err := sys.Fstat(fd); err == nil {
		if err := checkMemoryLimit(fd, size-min(st.Blocks*512, size)); err != nil {
			return err
		}
	}
	err := sys.Allocate(fd, size)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sys.ENOMEM):
		return memoryLimitError(fd, size, err)
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
	if err := checkMemoryLimit(fd, int64(len(mem))); err != nil {
		return err
	}
	err := sys.PopulateWrite(mem)
	if errors.Is(err, sys.ErrNoPopulate) {
		return reserve(fd, int64(len(mem)), false)
	}
	if errors.Is(err, sys.ENOMEM) {
		return memoryLimitError(fd, int64(len(mem)), err)
	}
	if err != nil && !errors.Is(err, sys.ENOSPC) {
		return fmt.Errorf("reserve %d bytes: %w", len(mem), err)
	}
	return err
}

// checkMemoryLimit refuses to allocate size bytes of tmpfs pages past the
// limit of this process's memory cgroup. The kernel charges them to that
// cgroup, and past its limit it does not fail the allocation: its OOM
// killer ends a process of the cgroup (measured: fallocate and the writes
// into the mapping alike; docs/RELIABILITY.md), usually this one, and the
// promise of an ENOSPC instead of a crash would be broken. The room of a
// level counts what reclaim could free for the pages (file cache, and the
// free swap), so the check refuses only what cannot fit; what other
// processes of the cgroup allocate after it is beyond its reach.
func checkMemoryLimit(fd int, size int64) error {
	if size <= 0 || !sys.OnTmpfs(fd) {
		return nil
	}
	levels, swap := limitedCgroupLevels()
	for _, l := range levels {
		if l = l.Refresh(); size > cgroupRoom(l, swap) {
			return cgroupError(l, size, cgroupRoom(l, swap))
		}
	}
	return nil
}

// memoryCgroup caches the levels of this process's memory cgroup that set a
// limit, and the free swap: finding them reads about ten files of /proc and
// cgroupfs, some 150 µs, several times a small Create. They are read again
// after a second, so a limit set, or a move to another cgroup, is seen
// within a second; the usage of a limited level is read at each check.
var memoryCgroup struct {
	sync.Mutex
	at     time.Time
	levels []sys.CgroupLevel
	swap   int64
}

func limitedCgroupLevels() ([]sys.CgroupLevel, int64) {
	c := &memoryCgroup
	c.Lock()
	defer c.Unlock()
	if now := time.Now(); c.at.IsZero() || now.Sub(c.at) > time.Second {
		c.at, c.levels, c.swap = now, nil, sys.SwapFree()
		if cg, ok := sys.ReadMemoryCgroup(); ok {
			for _, l := range cg.Levels {
				if l.Limit >= 0 {
					c.levels = append(c.levels, l)
				}
			}
		}
	}
	return c.levels, c.swap
}

// cgroupRoom is the most a cgroup level can still charge: its limit less
// its usage, plus the inactive file cache and swap that reclaim could free,
// less a margin for what the processes of the cgroup allocate besides the
// segment (heap growth, page tables): a thirty-second of the limit, between
// 2 and 64 MiB.
func cgroupRoom(l sys.CgroupLevel, swap int64) int64 {
	margin := min(max(l.Limit/32, 2<<20), 64<<20)
	room := l.Limit - max(l.Usage, 0) + max(l.File, 0) + swap - margin
	return max(room, 0)
}

// memoryLimitError explains an ENOMEM from allocating tmpfs pages: the
// memory cgroup refused the charge (its OOM killer disabled, or no process
// it could kill) between checkMemoryLimit and the allocation.
func memoryLimitError(fd int, size int64, err error) error {
	if levels, swap := limitedCgroupLevels(); len(levels) > 0 && sys.OnTmpfs(fd) {
		l := levels[0].Refresh()
		return cgroupError(l, size, cgroupRoom(l, swap))
	}
	return fmt.Errorf("%w: asked for %s (%d bytes): the kernel refused the pages (%v)", sys.ENOSPC, units.Bytes(size), size, err)
}
