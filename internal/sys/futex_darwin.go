package sys

import "context"

// WaitWord polls: macOS offers no system call to sleep on a word of shared
// memory without cgo.
func WaitWord(ctx context.Context, addr *uint32, val uint32) error {
	return waitPolling(ctx, addr, val)
}

// WakeWord has no sleepers to wake: pollers see the change themselves.
func WakeWord(addr *uint32, n int) (int, error) { return 0, nil }
