//go:build !linux && !darwin && !freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

func Allocate(fd int, size int64) error      { return ErrNoAllocate }
func FreeBytes(fd int) (free int64, ok bool) { return 0, false }
func TotalBytes(fd int) (int64, bool)        { return 0, false }
func OnTmpfs(fd int) bool                    { return false }

// FS describes the filesystem holding a directory; nothing reports one here.
type FS struct {
	Mount       Mount
	MountKnown  bool
	Total, Free int64
	Tmpfs       bool
}

func DirFS(dir string) (FS, error)        { return FS{}, errs.ErrNotSupported }
func PseudoFS(path string) (string, bool) { return "", false }
