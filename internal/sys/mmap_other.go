//go:build !linux && !darwin && !freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

func Map(fd int, size int64, write bool, adv Advice) ([]byte, error) {
	return nil, errs.ErrNotSupported
}
func Unmap(mem []byte) error            { return errs.ErrNotSupported }
func ProtectRead(mem []byte) error      { return errs.ErrNotSupported }
func Mlock(mem []byte) error            { return errs.ErrNotSupported }
func Munlock(mem []byte) error          { return errs.ErrNotSupported }
func Msync(mem []byte, flags int) error { return errs.ErrNotSupported }
