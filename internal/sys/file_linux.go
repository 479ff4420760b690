package sys

import "golang.org/x/sys/unix"

// ReopenFD opens the file of fd again through /proc/self/fd: a new open
// file description of the same inode (dup would share the description, and
// with it the locks), even when the file has been unlinked or replaced under
// its name since. Without /proc mounted it fails with ENOENT.
func ReopenFD(fd int, write bool) (int, error) {
	return ignoringEINTR2(func() (int, error) {
		return unix.Open(procFD(fd), accessMode(write)|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	})
}
