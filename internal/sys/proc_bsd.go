//go:build darwin || freebsd

package sys

import (
	"fmt"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// ScanMappers is not possible here: these systems have no /proc maps.
func ScanMappers(want *ID) (map[ID][]int, error) {
	return nil, fmt.Errorf("%w: finding the processes that map a file needs Linux's /proc", errs.ErrNotSupported)
}

// ScanOpeners is not possible here: these systems have no /proc.
func ScanOpeners(want map[ID]bool) (map[ID][]int, error) {
	return nil, fmt.Errorf("%w: finding the processes that hold a file open needs Linux's /proc", errs.ErrNotSupported)
}

// HugeBytes fails: only Linux reports the huge pages of a mapping.
func HugeBytes(mem []byte) (int64, error) { return 0, errs.ErrNotSupported }
