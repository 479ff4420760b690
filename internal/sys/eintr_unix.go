//go:build linux || darwin || freebsd

package sys

import "golang.org/x/sys/unix"

// ignoringEINTR calls fn until it returns anything but EINTR: a signal
// arriving during a slow system call (fallocate of a large segment, open on
// a network filesystem) must not fail the operation.
func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != unix.EINTR {
			return err
		}
	}
}

// ignoringEINTR2 is ignoringEINTR for calls that also return a value.
func ignoringEINTR2[T any](fn func() (T, error)) (T, error) {
	for {
		v, err := fn()
		if err != unix.EINTR {
			return v, err
		}
	}
}
