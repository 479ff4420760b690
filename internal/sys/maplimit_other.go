//go:build !linux && !darwin && !freebsd

package sys

// checkMapLimit has nothing to check: no mapping is made here.
func checkMapLimit() error { return nil }
