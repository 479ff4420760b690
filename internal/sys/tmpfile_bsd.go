//go:build darwin || freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

// OpenTmpfile fails: these systems have no O_TMPFILE, and callers make a
// file under a hidden temporary name instead.
func OpenTmpfile(dir string, mode uint32) (int, error) { return -1, errs.ErrNotSupported }

// LinkFD fails: only files opened with OpenTmpfile need it.
func LinkFD(fd int, path string) error { return errs.ErrNotSupported }
