//go:build !plan9

package serve

import (
	"errors"
	"syscall"
)

// isFault reports a write that the kernel failed with EFAULT: the page it
// was to copy from is gone (the segment was truncated under the server).
func isFault(err error) bool { return errors.Is(err, syscall.EFAULT) }
