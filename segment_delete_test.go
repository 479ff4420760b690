//go:build linux

package shmtensor

// Delete: foreign files refused, mappings kept valid.

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestDeleteRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]byte{
		"text":      []byte("hello, world\n"),
		"empty":     {},
		"badnpy":    []byte("\x93NUMPY\x01\x00\x10\x00{'descr': 'zz'}"),
		"truncated": nil, // filled below with a cut-down real segment
	}
	name := uniqueName(t)
	a, err := Create[float64](name, []int{100})
	if err != nil {
		t.Fatal(err)
	}
	real, _ := os.ReadFile(filepath.Join("/dev/shm", name))
	a.Close()
	cases["truncated"] = real[:4096+8*50]
	for base, content := range cases {
		path := filepath.Join(dir, base)
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Delete("file://" + path); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Delete(%s): %v, want ErrNotTensor", base, err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != string(content) {
			t.Errorf("Delete(%s) touched the file", base)
		}
		if _, err := Attach[float64]("file://" + path); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Attach(%s): %v, want ErrNotTensor", base, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Attach(%s) removed the file", base)
		}
	}
	// A directory, a FIFO and a symlink to a valid segment: refused without
	// blocking, and left in place.
	os.Mkdir(filepath.Join(dir, "dir"), 0o700)
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	os.Symlink(filepath.Join("/dev/shm", name), filepath.Join(dir, "link"))
	for _, base := range []string{"dir", "fifo", "link"} {
		n := "file://" + filepath.Join(dir, base)
		if _, err := Attach[float64](n); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Attach(%s): %v, want ErrNotTensor", base, err)
		}
		if _, err := Attach[float64](n, ReadOnly()); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Attach(%s, ReadOnly): %v, want ErrNotTensor", base, err)
		}
		if _, err := Stat(n); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Stat(%s): %v, want ErrNotTensor", base, err)
		}
		if err := Delete(n); !errors.Is(err, ErrNotTensor) {
			t.Errorf("Delete(%s): %v, want ErrNotTensor", base, err)
		}
		if _, err := Create[float64](n, []int{1}); !errors.Is(err, ErrExist) {
			t.Errorf("Create over %s: %v, want ErrExist", base, err)
		}
		if _, err := os.Lstat(filepath.Join(dir, base)); err != nil {
			t.Errorf("%s was removed", base)
		}
	}
	// The symlink's target is untouched and still a valid segment.
	if _, err := Stat(name); err != nil {
		t.Errorf("segment behind the symlink: %v", err)
	}
	// A symlink in /dev/shm itself is not followed either.
	ln := uniqueName(t)
	os.Symlink(filepath.Join("/dev/shm", name), filepath.Join("/dev/shm", ln))
	if _, err := Attach[float64](ln); !errors.Is(err, ErrNotTensor) {
		t.Errorf("Attach of a /dev/shm symlink: %v", err)
	}
}

func TestDeleteKeepsMappingsValid(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[int64](name, []int{1000})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Attach[int64](name)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := Delete(name); err != nil {
		t.Fatal(err)
	}
	if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Stat after Delete: %v", err)
	}
	a.Set(99, 999)
	if b.At(999) != 99 {
		t.Fatal("mappings stopped sharing memory after Delete")
	}
	if err := Delete(name); !errors.Is(err, ErrNotExist) {
		t.Fatalf("second Delete: %v", err)
	}
}
