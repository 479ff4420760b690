//go:build darwin || freebsd

package sys

import "golang.org/x/sys/unix"

// mapAdvised maps with the placement advice applied. FreeBSD promotes
// superpages by itself and macOS has no transparent huge pages, so Huge
// asks nothing here. Populate asks with MADV_WILLNEED, which FreeBSD
// answers by mapping the pages already resident; it is never an error.
func mapAdvised(fd int, size int64, write bool, adv Advice) ([]byte, error) {
	mem, err := mapShared(fd, size, write, 0)
	if err != nil {
		return nil, err
	}
	if adv&Populate != 0 {
		unix.Madvise(mem, unix.MADV_WILLNEED)
	}
	return mem, nil
}

// ReservesThroughMapping is false: files are reserved as without Huge.
func ReservesThroughMapping(fd int) bool { return false }

// PopulateWrite fails with ErrNoPopulate: only Linux can.
func PopulateWrite(mem []byte) error { return ErrNoPopulate }

// PopulateRange does nothing: madvise here has no populating advice.
func PopulateRange(mem []byte) {}
