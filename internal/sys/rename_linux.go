package sys

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// RenameNoReplace renames from to to, atomically, unless to exists
// (renameat2(2) RENAME_NOREPLACE); ErrNoRenameFlags where the filesystem
// cannot.
func RenameNoReplace(from, to string) error {
	err := ignoringEINTR(func() error {
		return unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, unix.RENAME_NOREPLACE)
	})
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) {
		return ErrNoRenameFlags
	}
	return err
}

// Exchange swaps the names a and b atomically (renameat2(2)
// RENAME_EXCHANGE, Linux 3.15; tmpfs, ext4, xfs, btrfs and others).
func Exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP) {
		return ErrNoExchange
	}
	return err
}
