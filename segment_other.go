//go:build !linux && !darwin && !freebsd

package shmtensor

import "time"

// On systems other than Linux, FreeBSD and macOS the package compiles, so
// that programs importing it build everywhere, but every operation on a
// segment fails with ErrNotSupported. Heap tensors (New, FromSlice) work.

const (
	maxPath        = 1024
	maxShmName     = 255
	shmDirHint     = "shared memory"
	shmSizeRounded = false
	shmListDir     = ""
)

func openFile(n segName, write bool) (*file, error)    { return nil, ErrNotSupported }
func (f *file) close()                                 {}
func (f *file) pread(p []byte, off int64) (int, error) { return 0, ErrNotSupported }
func closeFD(fd int)                                   {}
func fileIdentity(fd int) (FileID, error)              { return FileID{}, ErrNotSupported }
func fileSize(fd int) (int64, error)                   { return 0, ErrNotSupported }
func unmap(mem []byte) error                           { return ErrNotSupported }
func protectRead(mem []byte) error                     { return ErrNotSupported }
func mlock(mem []byte) error                           { return ErrNotSupported }
func munlock(mem []byte) error                         { return ErrNotSupported }
func msync(mem []byte, flags SyncFlags) error          { return ErrNotSupported }
func createErrno(err error, n segName) error           { return err }
func reserve(fd int, size int64, lazy bool) error      { return ErrNotSupported }
func newCreator(n segName, mode uint32) (creator, error) {
	return nil, ErrNotSupported
}
func listShm() ([]string, error)               { return nil, ErrNotSupported }
func nameTaken(n segName) bool                 { return false }
func effectiveUID() (uint32, bool)             { return 0, false }
func reserveFile(f *file) error                { return ErrNotSupported }
func reserveExisting(fd int, size int64) error { return ErrNotSupported }
func staleTemporary(p string, age time.Duration, now time.Time) (bool, error) {
	return false, ErrNotSupported
}
func unlinkNamed(n segName, f *file) error { return ErrNotSupported }
