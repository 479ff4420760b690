//go:build darwin || freebsd

package shmtensor

import "golang.org/x/sys/unix"

// mapFileWith maps the file shared with the placement advice applied. FreeBSD
// promotes superpages by itself and macOS has no transparent huge pages, so
// HugePages asks nothing here. Populate asks with MADV_WILLNEED, which
// FreeBSD answers by mapping the pages already resident; it is never an
// error.
func mapFileWith(fd int, size int64, write bool, adv advice) ([]byte, error) {
	mem, err := mapShared(fd, size, write, 0)
	if err != nil {
		return nil, err
	}
	if adv&advPopulate != 0 {
		unix.Madvise(mem, unix.MADV_WILLNEED)
	}
	return mem, nil
}

// reservesThroughMapping is false: Create reserves as without HugePages.
func reservesThroughMapping(fd int) bool { return false }

func reserveMapped(fd int, mem []byte) error { return reserve(fd, int64(len(mem)), false) }

func hugeBytes(mem []byte) (int64, error) { return 0, ErrNotSupported }
