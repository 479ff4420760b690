//go:build darwin || freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

// ReopenFD fails: these systems have no /proc to reopen a descriptor
// through (macOS's /dev/fd/N is a dup); callers open the file by name.
func ReopenFD(fd int, write bool) (int, error) { return -1, errs.ErrNotSupported }
