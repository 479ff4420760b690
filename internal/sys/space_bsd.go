//go:build darwin || freebsd

package sys

// Allocate fails with ErrNoAllocate: these systems cannot reserve the
// pages of a shm object, and the callers fall back to a free-space check.
func Allocate(fd int, size int64) error { return ErrNoAllocate }
