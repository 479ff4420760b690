//go:build unix

package zarr

import "syscall"

// nonBlock opens a FIFO or a device in the store without waiting for a
// writer, so that it is refused (it is not a regular file) instead of
// hanging the import. It changes nothing for regular files.
const nonBlock = syscall.O_NONBLOCK
