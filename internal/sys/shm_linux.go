package sys

import (
	"os"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// On Linux, POSIX shared memory is the tmpfs at /dev/shm: shm_open(3) in
// glibc opens /dev/shm/NAME, so an object there is an ordinary file to
// every system call, and numpy can np.load it by path.
const (
	// ShmIsFile reports that shm objects are files with a path: they can
	// be linked, renamed and locked like any file.
	ShmIsFile = true
	// ShmDir is the directory of the shm objects.
	ShmDir = "/dev/shm"
	// ShmHint names where shm objects live, for error messages.
	ShmHint = ShmDir
	// MaxShmName is the longest shm name (NAME_MAX).
	MaxShmName = 255
	// ShmSizeRounded reports that the system rounds an object's size up
	// to whole pages; tmpfs keeps the size ftruncate set.
	ShmSizeRounded = false
	// ShmNoFileType reports that fstat of an object shows no file type.
	ShmNoFileType = false
)

// ShmPath returns the path of the shm object name.
func ShmPath(name string) string { return ShmDir + "/" + name }

// ListShm returns the names of the regular files in ShmDir.
func ListShm() ([]string, error) {
	entries, err := os.ReadDir(ShmDir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// ShmOpen, ShmCreate, ShmUnlink and ShmPread serve the systems whose shm
// objects are not files (ShmIsFile false); they are not used here.
func ShmOpen(name string, write bool) (int, error)                  { return -1, errs.ErrNotSupported }
func ShmCreate(name string, mode uint32) (int, error)               { return -1, errs.ErrNotSupported }
func ShmUnlink(name string) error                                   { return errs.ErrNotSupported }
func ShmPread(fd int, size int64, p []byte, off int64) (int, error) { return 0, errs.ErrNotSupported }
