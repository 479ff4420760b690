//go:build !linux && !darwin && !freebsd

package sys

func Allocate(fd int, size int64) error      { return ErrNoAllocate }
func FreeBytes(fd int) (free int64, ok bool) { return 0, false }
func TotalBytes(fd int) (int64, bool)        { return 0, false }
func OnTmpfs(fd int) bool                    { return false }
