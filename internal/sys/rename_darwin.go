package sys

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// RenameNoReplace fails with ErrNoRenameFlags: callers fall back to link.
func RenameNoReplace(from, to string) error { return ErrNoRenameFlags }

// Exchange swaps the names a and b atomically (renamex_np(2) RENAME_SWAP,
// APFS and HFS+).
func Exchange(a, b string) error {
	err := unix.RenamexNp(a, b, unix.RENAME_SWAP)
	if errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EINVAL) {
		return ErrNoExchange
	}
	return err
}
