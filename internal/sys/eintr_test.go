//go:build linux || darwin || freebsd

package sys

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestIgnoringEINTR: the retry helper every interruptible call goes
// through retries EINTR and nothing else.
func TestIgnoringEINTR(t *testing.T) {
	calls := 0
	err := ignoringEINTR(func() error {
		calls++
		if calls < 3 {
			return unix.EINTR
		}
		return unix.ENOSPC
	})
	if err != unix.ENOSPC || calls != 3 {
		t.Fatalf("got %v after %d calls, want ENOSPC after 3", err, calls)
	}
	calls = 0
	v, err := ignoringEINTR2(func() (int, error) {
		calls++
		if calls < 2 {
			return -1, unix.EINTR
		}
		return 7, nil
	})
	if v != 7 || err != nil || calls != 2 {
		t.Fatalf("got %v, %v after %d calls", v, err, calls)
	}
}
