//go:build !linux && !darwin && !freebsd

package sys

func Allocate(fd int, size int64) error      { return ErrNoAllocate }
func FreeBytes(fd int) (free int64, ok bool) { return 0, false }
func PseudoFS(path string) (string, bool)    { return "", false }
