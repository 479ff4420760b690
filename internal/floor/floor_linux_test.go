package floor

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestFloors: each floor does its calls without error on a real file, and
// Create leaves nothing under its path.
func TestFloors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x")
	if err := os.WriteFile(path, make([]byte, 3*4096), 0o600); err != nil {
		t.Fatal(err)
	}
	header := make([]byte, 4096)
	for _, h := range [][]byte{nil, header} {
		if err := Attach(path, h); err != nil {
			t.Fatalf("Attach(header %d bytes): %v", len(h), err)
		}
	}
	if err := AttachLocked(path, header); err != nil {
		t.Fatalf("AttachLocked: %v", err)
	}
	// AttachLocked takes the liveness lock: an exclusive one held through
	// another open file description refuses it.
	excl, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 1 << 62, Len: 1}
	if err := unix.FcntlFlock(uintptr(excl), unix.F_OFD_SETLK, &lk); err != nil {
		t.Fatal(err)
	}
	if err := AttachLocked(path, header); err != unix.EAGAIN {
		t.Fatalf("AttachLocked under an exclusive lock: %v, want EAGAIN", err)
	}
	unix.Close(excl)
	named := filepath.Join(dir, "named")
	for _, reserve := range []bool{false, true} {
		for _, p := range []string{"", named} {
			if err := Create(dir, 1<<16, reserve, p); err != nil {
				if reserve && err == unix.EOPNOTSUPP {
					continue // a filesystem without fallocate
				}
				t.Fatalf("Create(reserve %v, path %q): %v", reserve, p, err)
			}
		}
	}
	if _, err := os.Stat(named); !os.IsNotExist(err) {
		t.Fatalf("Create left %s: %v", named, err)
	}
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := LockPair(fd, 4096, 8192); err != nil {
		t.Fatal(err)
	}
}
