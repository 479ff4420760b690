//go:build linux || darwin || freebsd

package sys

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Rlimit is a resource limit of this process: Cur is the soft limit, which
// applies, Max the hard one, up to which the process may raise Cur; -1
// stands for unlimited (RLIM_INFINITY) or unknown.
type Rlimit struct{ Cur, Max int64 }

func getrlimit(resource int) Rlimit {
	var r unix.Rlimit
	if err := unix.Getrlimit(resource, &r); err != nil {
		return Rlimit{-1, -1}
	}
	conv := func(v uint64) int64 {
		if v == unix.RLIM_INFINITY || v > 1<<62 {
			return -1
		}
		return int64(v)
	}
	return Rlimit{conv(uint64(r.Cur)), conv(uint64(r.Max))}
}

// OpenFilesLimit is RLIMIT_NOFILE: every open segment holds a descriptor.
func OpenFilesLimit() Rlimit { return getrlimit(unix.RLIMIT_NOFILE) }

// MemlockLimit is RLIMIT_MEMLOCK, in bytes: how much Mlock may lock (root
// is not limited).
func MemlockLimit() Rlimit { return getrlimit(unix.RLIMIT_MEMLOCK) }

// OpenFiles returns the number of open descriptors of this process, or -1:
// the entries of /proc/self/fd (Linux) or /dev/fd, less the one reading it.
func OpenFiles() int64 {
	dir := "/dev/fd"
	if runtime.GOOS == "linux" {
		dir = "/proc/self/fd"
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return -1
	}
	return int64(max(len(ents)-1, 0))
}
