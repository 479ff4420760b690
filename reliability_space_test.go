//go:build linux

package shmtensor

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestENOSPCSaysHowToGetMore: a Create too large for its filesystem fails
// with ENOSPC saying how to get more room, which depends on where: Docker's
// and Kubernetes' ways for /dev/shm, remount for another tmpfs, and for a
// disk filesystem neither.
func TestENOSPCSaysHowToGetMore(t *testing.T) {
	check := func(t *testing.T, name string, shape []int, lazy bool, want, notWant []string) {
		t.Helper()
		var opts []Option
		if lazy {
			opts = append(opts, Lazy())
		}
		_, err := Create[uint8](name, shape, opts...)
		t.Log(err)
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Create of %v bytes at %s: %v, want ENOSPC", shape, name, err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("Create at %s: %v\nwant it to say %q", name, err, w)
			}
		}
		for _, w := range notWant {
			if strings.Contains(err.Error(), w) {
				t.Errorf("Create at %s: %v\nwant it not to say %q", name, err, w)
			}
		}
	}
	t.Run("dev-shm", func(t *testing.T) {
		if strconv.IntSize < 64 {
			t.Skip("more than /dev/shm holds needs a 64-bit int")
		}
		check(t, uniqueName(t), []int{1 << 25, 1 << 25}, true,
			[]string{"/dev/shm is a tmpfs of ", "docker run --shm-size=", "emptyDir", "medium: Memory", "sizeLimit", "mount -o remount,size=SIZE /dev/shm"}, nil)
	})
	t.Run("small-tmpfs", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("mounting a tmpfs needs root")
		}
		dir := t.TempDir()
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
			t.Skipf("cannot mount a tmpfs: %v", err)
		}
		t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
		want := []string{dir + " is a tmpfs of 1.0 MiB", "mount -o remount,size=SIZE " + dir}
		for _, lazy := range []bool{false, true} {
			check(t, "file://"+filepath.Join(dir, "big.npy"), []int{4 << 20}, lazy, want, []string{"--shm-size"})
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("the failed Creates left %d files", len(ents))
		}
	})
	t.Run("disk", func(t *testing.T) {
		if strconv.IntSize < 64 {
			t.Skip("more than a disk holds needs a 64-bit int")
		}
		dir := t.TempDir()
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil || st.Type == unix.TMPFS_MAGIC {
			t.Skipf("%s is on a tmpfs (or unknown: %v), not a disk", dir, err)
		}
		check(t, "file://"+filepath.Join(dir, "big.npy"), []int{1 << 30, 1 << 30}, true,
			[]string{"free space on the filesystem mounted at "}, []string{"tmpfs", "--shm-size"})
	})
}
