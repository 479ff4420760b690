//go:build !linux && !darwin && !freebsd

package shmtensor

func mapFileWith(fd int, size int64, write bool, adv advice) ([]byte, error) {
	return nil, ErrNotSupported
}
func reservesThroughMapping(fd int) bool     { return false }
func reserveMapped(fd int, mem []byte) error { return ErrNotSupported }
func hugeBytes(mem []byte) (int64, error)    { return 0, ErrNotSupported }
