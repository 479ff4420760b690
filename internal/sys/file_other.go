//go:build !linux && !darwin && !freebsd

package sys

import "github.com/shmtensor/shmtensor/internal/errs"

// PathMax bounds a path where the system states no limit here.
const PathMax = 1024

func Open(path string, write bool) (int, error)          { return -1, errs.ErrNotSupported }
func CreateExclusive(path string) (int, error)           { return -1, errs.ErrNotSupported }
func OpenOrCreate(path string, mode uint32) (int, error) { return -1, errs.ErrNotSupported }
func Close(fd int)                                       {}
func Fstat(fd int) (Stat, error)                         { return Stat{}, errs.ErrNotSupported }
func Lstat(path string) (Stat, error)                    { return Stat{}, errs.ErrNotSupported }
func Pread(fd int, p []byte, off int64) (int, error)     { return 0, errs.ErrNotSupported }
func Fchmod(fd int, mode uint32) error                   { return errs.ErrNotSupported }
func Truncate(fd int, size int64) error                  { return errs.ErrNotSupported }
func Link(old, new string) error                         { return errs.ErrNotSupported }
func Rename(old, new string) error                       { return errs.ErrNotSupported }
func Unlink(path string) error                           { return errs.ErrNotSupported }
func UnlinkID(path string, id ID) error                  { return errs.ErrNotSupported }
func Geteuid() (uid uint32, ok bool)                     { return 0, false }
func ReopenFD(fd int, write bool) (int, error)           { return -1, errs.ErrNotSupported }
