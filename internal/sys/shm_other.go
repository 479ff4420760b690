//go:build !linux && !darwin && !freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

const (
	ShmIsFile      = false
	ShmDir         = ""
	ShmHint        = "shared memory"
	MaxShmName     = 255
	ShmSizeRounded = false
	ShmNoFileType  = false
)

func ShmPath(name string) string                                    { return name }
func ListShm() ([]string, error)                                    { return nil, errs.ErrNotSupported }
func ShmOpen(name string, write bool) (int, error)                  { return -1, errs.ErrNotSupported }
func ShmCreate(name string, mode uint32) (int, error)               { return -1, errs.ErrNotSupported }
func ShmUnlink(name string) error                                   { return errs.ErrNotSupported }
func ShmPread(fd int, size int64, p []byte, off int64) (int, error) { return 0, errs.ErrNotSupported }
