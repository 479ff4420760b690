package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shmtensor/shmtensor"
	"golang.org/x/sys/unix"
)

func TestInfoHugePages(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create", name, "float64", "1000")
	contains(t, "info of a /dev/shm segment", want(t, 0, "info", name).stdout, "huge pages:", "none (")

	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a huge=advise tmpfs")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "huge=advise,size=32m"); err != nil {
		t.Skipf("cannot mount a huge=advise tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	huge := "file://" + filepath.Join(dir, "h.npy")
	x, err := shmtensor.Create[float64](huge, []int{8 << 20 / 8}, shmtensor.HugePages())
	if err != nil {
		t.Fatal(err)
	}
	x.Close()
	contains(t, "info of a huge-page segment", want(t, 0, "info", huge).stdout, "huge pages:   8.0 MiB of 8.0 MiB resident")
}
