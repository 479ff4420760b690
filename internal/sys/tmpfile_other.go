//go:build !linux && !darwin && !freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

func OpenTmpfile(dir string, mode uint32) (int, error) { return -1, errs.ErrNotSupported }
func LinkFD(fd int, path string) error                 { return errs.ErrNotSupported }
