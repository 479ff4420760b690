//go:build !linux && !darwin && !freebsd

package sys

import "context"

func WaitWord(ctx context.Context, addr *uint32, val uint32) error {
	return waitPolling(ctx, addr, val)
}
func WakeWord(addr *uint32, n int) (int, error) { return 0, nil }
