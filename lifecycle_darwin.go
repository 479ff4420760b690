package shmtensor

import (
	"errors"
	"syscall"

	"golang.org/x/sys/unix"
)

// exchange swaps the names a and b atomically (renamex_np(2) RENAME_SWAP,
// APFS and HFS+).
func exchange(a, b string) error {
	err := unix.RenamexNp(a, b, unix.RENAME_SWAP)
	if errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EINVAL) {
		return errNoExchange
	}
	return err
}
