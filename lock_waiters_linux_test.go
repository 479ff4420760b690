package shmtensor

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// waitBlockedLockers returns once n lock requests on the file at path are
// blocked in the kernel (F_OFD_SETLKW, or fcntl F_SETLKW from Python),
// which /proc/locks lists with "->": a test that must release a lock while
// others sleep on it waits for that, not for a time it hopes is enough.
// Waiters that poll (a cancellable context) are never listed.
func waitBlockedLockers(t testing.TB, path string, n int) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	inode := ":" + strconv.FormatUint(st.Ino, 10)
	deadline := time.Now().Add(time.Minute)
	for {
		b, err := os.ReadFile("/proc/locks")
		if err != nil {
			t.Fatal(err)
		}
		blocked := 0
		for _, l := range strings.Split(string(b), "\n") {
			f := strings.Fields(l)
			if len(f) >= 7 && f[1] == "->" && strings.HasSuffix(f[6], inode) {
				blocked++
			}
		}
		if blocked >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d lock requests on %s blocked after a minute:\n%s", blocked, n, path, b)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitPollingLockers returns once n goroutines of this process poll for a
// lock (Lock with a cancellable context, after a first refusal).
func waitPollingLockers(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for released.waiters.Load() < int32(n) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d lock waiters polling after a minute", released.waiters.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}
