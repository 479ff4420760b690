//go:build linux

package shmtensor

// Errors: what the campaign found misleading, and broken entries.

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/codec"
)

// TestErrorContract: the errors the campaign found misleading or
// unmatched.
func TestErrorContract(t *testing.T) {
	dir := t.TempDir()
	_, err := Create[float64]("file://"+filepath.Join(dir, "m.npy"), []int{1}, Mode(fs.ModeSetuid|0o644))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Mode with setuid: %v", err)
	}
	if _, err := ParseDType("zz"); !errors.As(err, &e) || !errors.Is(err, ErrDType) {
		t.Errorf("ParseDType: %#v", err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, opts := range [][]Option{nil, {ReadOnly()}} {
		_, err = Attach[float64]("file://"+sock, opts...)
		if !errors.Is(err, ErrNotTensor) || !strings.Contains(err.Error(), "socket") || strings.Contains(err.Error(), "FIFO") {
			t.Errorf("Attach of a socket: %v", err)
		}
	}
	unix.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	if _, err := Attach[float64]("file://" + filepath.Join(dir, "fifo")); !strings.Contains(fmt.Sprint(err), "FIFO") {
		t.Errorf("Attach of a FIFO: %v", err)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	_, err = Create[float64]("file://"+filepath.Join(dir, "sub"), []int{1})
	if !errors.Is(err, ErrExist) || !strings.Contains(err.Error(), "directory") || strings.Contains(err.Error(), "segment already exists") {
		t.Errorf("Create over a directory: %v", err)
	}
}

// TestBrokenEntries: a truncated segment is listed by ListBroken with the
// reason and removed by DeleteBroken; files without a tensor magic are
// neither listed nor removed.
func TestBrokenEntries(t *testing.T) {
	trunc := uniqueName(t)
	a, err := Create[float64](trunc, []int{100})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := os.Truncate(filepath.Join("/dev/shm", trunc), codec.NPYDataOffset+8); err != nil {
		t.Fatal(err)
	}
	plain := uniqueName(t)
	os.WriteFile(filepath.Join("/dev/shm", plain), []byte("some other program's shm"), 0o600)
	broken, err := ListBroken()
	if err != nil {
		t.Fatal(err)
	}
	var found *Broken
	for i, b := range broken {
		if b.Name == "shm://"+plain {
			t.Errorf("ListBroken lists a file without a tensor magic: %+v", b)
		}
		if b.Name == "shm://"+trunc {
			found = &broken[i]
		}
	}
	if found == nil || !errors.Is(found.Err, ErrNotTensor) || !strings.Contains(found.Err.Error(), "needs") || found.Size != codec.NPYDataOffset+8 {
		t.Fatalf("ListBroken: %+v", found)
	}
	if err := Delete(trunc); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("Delete of a broken segment: %v", err)
	}
	if err := DeleteBroken(plain); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("DeleteBroken of a plain file: %v", err)
	}
	if _, err := os.Stat(filepath.Join("/dev/shm", plain)); err != nil {
		t.Fatalf("DeleteBroken removed a plain file")
	}
	if os.Geteuid() == 0 {
		os.Chown(filepath.Join("/dev/shm", trunc), 65534, 65534)
		if err := DeleteBroken(trunc); !errors.Is(err, ErrPermission) {
			t.Fatalf("DeleteBroken of another user's file: %v", err)
		}
		os.Chown(filepath.Join("/dev/shm", trunc), 0, 0)
	}
	if err := DeleteBroken(trunc); err != nil {
		t.Fatalf("DeleteBroken: %v", err)
	}
	if _, err := os.Stat(filepath.Join("/dev/shm", trunc)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("still there after DeleteBroken: %v", err)
	}
}
