//go:build !unix

package zarr

import (
	"runtime"
	"testing"
)

// mkfifo skips: there are no FIFOs in the file system here.
func mkfifo(t *testing.T, path string) {
	t.Skip("no FIFOs on", runtime.GOOS)
}
