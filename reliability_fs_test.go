//go:build linux

package shmtensor

// Filesystems that lack room, sizes or O_TMPFILE, and the temporaries
// that killed creators leave.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// mountFS mounts a fresh filesystem of type fstype on a temporary
// directory, skipping the test without root (failing it under CI, which
// runs as root).
func mountFS(t *testing.T, fstype, data string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount(fstype, dir, fstype, 0, data); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount %s (CI runs as root): %v", fstype, err)
		}
		t.Skipf("cannot mount %s (needs root): %v", fstype, err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// TestRamfsIsNotFull: a filesystem that reports no size (ramfs) has room.
func TestRamfsIsNotFull(t *testing.T) {
	dir := mountFS(t, "ramfs", "")
	for _, opts := range [][]Option{nil, {Lazy()}} {
		name := "file://" + filepath.Join(dir, fmt.Sprintf("x%d.npy", len(opts)))
		a, err := Create[float64](name, []int{1000}, opts...)
		if err != nil {
			t.Fatalf("Create on ramfs (opts %d): %v", len(opts), err)
		}
		a.Set(2.5, 999)
		a.Close()
		b, err := Attach[float64](name)
		if err != nil || b.At(999) != 2.5 {
			t.Fatalf("Attach on ramfs: %v", err)
		}
		b.Close()
	}
}

// TestTmpfileHalfWorks: where O_TMPFILE opens but fchmod then fails (as on
// some FUSE filesystems), Create falls back to a temporary name.
func TestTmpfileHalfWorks(t *testing.T) {
	saved := openTmpfile
	t.Cleanup(func() { openTmpfile = saved })
	openTmpfile = func(dir string, mode uint32) (int, error) {
		fd, err := saved(dir, mode)
		if err != nil {
			return fd, err
		}
		unix.Close(fd)
		return -1, syscall.ENOENT // what fchmod gave on the FUSE filesystem
	}
	dir := t.TempDir()
	name := "file://" + filepath.Join(dir, "x.npy")
	a, err := Create[int32](name, []int{5}, Mode(0o640))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	a.Close()
	info, err := Stat(name)
	if err != nil || info.Mode != 0o640 {
		t.Fatalf("Stat: %+v %v", info, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %v, want only x.npy", entries)
	}
}

// TestStaleTemporariesRemoved: temporaries of killed creators and deleters
// older than StaleAge are removed by RemoveStale and by a Create that uses
// a temporary name; fresh ones, other files and a foreign file moved aside
// are kept.
func TestStaleTemporariesRemoved(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * StaleAge)
	files := map[string]bool{ // name -> removed
		tempPrefix + "a.npy-0123456789abcdef.tmp": true,
		asidePrefix + "b.npy-0123456789abcdef":    true,
		asidePrefix + "c.npy-0123456789abcdef":    false, // foreign: no tensor magic
		tempPrefix + "fresh.npy-00.tmp":           false,
		"user.npy":                                false,
		".shmtensorx":                             false,
	}
	setup := func() {
		for f := range files {
			p := filepath.Join(dir, f)
			data := []byte("x")
			if strings.Contains(f, "b.npy") {
				data = []byte("\x93NUMPY\x01\x00")
			}
			os.WriteFile(p, data, 0o600)
			if !strings.Contains(f, "fresh") {
				os.Chtimes(p, old, old)
			}
		}
	}
	check := func(how string) {
		t.Helper()
		for f, gone := range files {
			_, err := os.Lstat(filepath.Join(dir, f))
			if gone != errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: %s: removed=%v, want %v", how, f, err != nil, gone)
			}
		}
	}
	setup()
	removed, err := RemoveStale(dir, StaleAge)
	if err != nil || len(removed) != 2 {
		t.Fatalf("RemoveStale: %v, %v", removed, err)
	}
	check("RemoveStale")

	setup()
	saved := openTmpfile
	t.Cleanup(func() { openTmpfile = saved })
	openTmpfile = func(string, uint32) (int, error) { return -1, syscall.EOPNOTSUPP }
	swept.Delete(dir)
	a, err := Create[int8]("file://"+filepath.Join(dir, "new.npy"), []int{1})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	check("Create")
	if _, err := RemoveStale(filepath.Join(dir, "missing"), StaleAge); !errors.Is(err, ErrNotExist) {
		t.Errorf("RemoveStale of a missing directory: %v", err)
	}
}

// TestReserve: a Lazy segment reports unreserved pages, Attach with
// Reserve allocates them keeping the data, and on a full filesystem says
// ENOSPC.
func TestReserve(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{1 << 17}, Lazy()) // 1 MiB
	if err != nil {
		t.Fatal(err)
	}
	a.Set(1.5, 7)
	a.Close()
	if info, _ := Stat(name); info.Reserved {
		t.Fatalf("lazy segment reported reserved: %+v", info)
	}
	for _, opts := range [][]Option{{Reserve()}, {Reserve(), ReadOnly()}} {
		b, err := Attach[float64](name, opts...)
		if err != nil {
			t.Fatalf("Attach with Reserve: %v", err)
		}
		if b.At(7) != 1.5 {
			t.Fatalf("Reserve lost the data")
		}
		b.Close()
	}
	if info, _ := Stat(name); !info.Reserved {
		t.Fatalf("segment not reserved after Attach with Reserve: %+v", info)
	}
	full, err := Create[float64](uniqueName(t), []int{16})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	if info, _ := Stat(full.Segment().Name()); !info.Reserved {
		t.Fatalf("Create without Lazy: not reserved: %+v", info)
	}

	dir := mountFS(t, "tmpfs", "size=1m")
	lazy := "file://" + filepath.Join(dir, "lazy.npy")
	c, err := Create[uint8](lazy, []int{800 << 10}, Lazy())
	if err != nil {
		t.Fatal(err)
	}
	c.Set(9, 0)
	c.Close()
	d, err := Create[uint8]("file://"+filepath.Join(dir, "fill.npy"), []int{600 << 10})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	_, err = Attach[uint8](lazy, Reserve())
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "free") {
		t.Fatalf("Attach with Reserve on a full filesystem: %v", err)
	}
	e, err := Attach[uint8](lazy)
	if err != nil || e.At(0) != 9 {
		t.Fatalf("data after a failed Reserve: %v", err)
	}
	e.Close()
}

// TestLazyCreateOnTakenNameFullFS: a taken name is ErrExist even when the
// filesystem is full.
func TestLazyCreateOnTakenNameFullFS(t *testing.T) {
	dir := mountFS(t, "tmpfs", "size=1m")
	name := "file://" + filepath.Join(dir, "x.npy")
	a, err := Create[uint8](name, []int{900 << 10})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	for _, opts := range [][]Option{nil, {Lazy()}} {
		if _, err := Create[uint8](name, []int{2 << 20}, opts...); !errors.Is(err, ErrExist) || errors.Is(err, syscall.ENOSPC) {
			t.Errorf("Create (opts %d) on a taken name, full filesystem: %v", len(opts), err)
		}
	}
}
