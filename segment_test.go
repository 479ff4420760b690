//go:build linux

package shmtensor

// Segments once made: error messages, read-only attaches, Close, Open and
// the Segment methods, List.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestErrorMessages(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float32](name, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = Attach[float64]("shm://" + name)
	want := "shmtensor: attach shm://" + name + ": element type mismatch: segment holds float32, want float64"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	var e *Error
	if !errors.As(err, &e) || e.Op != "attach" || e.Name != "shm://"+name || !errors.Is(err, ErrDType) {
		t.Fatalf("error %#v", err)
	}
	_, err = Attach[float64](uniqueName(t))
	if !errors.Is(err, ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("attach missing: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Set(5, 1, 1)
	r, err := Attach[float64](name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Segment().ReadOnly() || r.At(1, 1) != 5 {
		t.Fatal("read-only attach does not read")
	}
	mustPanic(t, ErrReadOnly, func() { r.Set(1, 0, 0) })
	if a.At(0, 0) != 0 {
		t.Fatal("read-only Set wrote")
	}
	// A segment without write permission attaches read-only only.
	name2 := uniqueName(t)
	c, err := Create[float64](name2, []int{1}, Mode(0o400))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if os.Geteuid() != 0 { // root ignores permission bits
		if _, err := Attach[float64](name2); !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "ReadOnly") {
			t.Errorf("read-write attach of a 0400 segment: %v", err)
		}
	}
	if r2, err := Attach[float64](name2, ReadOnly()); err != nil {
		t.Errorf("read-only attach of a 0400 segment: %v", err)
	} else {
		r2.Close()
	}
}

func TestClose(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	seg := a.Segment()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	mustPanic(t, ErrClosed, func() { a.At(0) })
	mustPanic(t, ErrClosed, func() { a.At(0, 0) }) // closed wins over a wrong count
	mustPanic(t, ErrClosed, func() { a.Set(1, 0) })
	mustPanic(t, ErrClosed, func() { a.Data() })
	if err := seg.Msync(MSSync); !errors.Is(err, ErrClosed) {
		t.Fatalf("Msync after Close: %v", err)
	}
	if _, err := View[float64](seg); !errors.Is(err, ErrClosed) {
		t.Fatalf("View after Close: %v", err)
	}
	if seg.Addr() != 0 {
		t.Fatal("Addr of a closed segment is not 0")
	}
	if _, err := Stat(name); err != nil {
		t.Fatalf("Close unlinked the segment: %v", err)
	}
}

func TestOpenViewAndSegmentMethods(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[complex64](name, []int{3})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Set(1+2i, 2)
	s, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Name() != "shm://"+name || s.DType() != Complex64 || !slices.Equal(s.Shape(), []int{3}) || s.Layout() != NPY || s.ReadOnly() {
		t.Fatalf("segment %s %v %v %v %v", s.Name(), s.DType(), s.Shape(), s.Layout(), s.ReadOnly())
	}
	if s.Size() != 4096+3*8 || s.Addr()%4096 != 0 || s.Addr() == 0 {
		t.Fatalf("Size %d Addr %#x", s.Size(), s.Addr())
	}
	if _, err := View[complex128](s); !errors.Is(err, ErrDType) {
		t.Fatalf("View[complex128] of complex64: %v", err)
	}
	v, err := View[complex64](s)
	if err != nil {
		t.Fatal(err)
	}
	if v.At(2) != 1+2i {
		t.Fatal("View does not see the data")
	}
	for _, f := range []SyncFlags{MSAsync, MSSync, MSInvalidate} {
		if err := s.Msync(f); err != nil {
			t.Errorf("Msync(%d): %v", f, err)
		}
	}
	if err := s.Mlock(); err != nil && !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.ENOMEM) {
		t.Errorf("Mlock: %v", err)
	} else if err == nil {
		if err := s.Munlock(); err != nil {
			t.Errorf("Munlock: %v", err)
		}
	}
	// Views share the segment: closing it closes them all.
	s.Close()
	mustPanic(t, ErrClosed, func() { v.At(0) })
}

func TestList(t *testing.T) {
	names := []string{uniqueName(t), uniqueName(t)}
	for i, n := range names {
		opts := []Option(nil)
		if i == 1 {
			opts = append(opts, SharedArrayLayout())
		}
		a, err := Create[uint16](n, []int{i + 1, 2}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
	foreign := uniqueName(t)
	os.WriteFile(filepath.Join("/dev/shm", foreign), []byte("not a tensor at all"), 0o600)
	infos, err := List()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]Info{}
	for _, in := range infos {
		found[in.Name] = in
	}
	for i, n := range names {
		in, ok := found["shm://"+n]
		if !ok {
			t.Fatalf("List misses %s", n)
		}
		if in.DType != Uint16 || !slices.Equal(in.Shape, []int{i + 1, 2}) {
			t.Errorf("List entry %+v", in)
		}
	}
	if _, ok := found["shm://"+foreign]; ok {
		t.Error("List includes a foreign file")
	}
	if !slices.IsSortedFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("List is not sorted")
	}
}

// mustPanic runs f and checks that it panics with a value that names
// sentinel (an error matching it, or a message containing its text).
func mustPanic(t *testing.T, sentinel error, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("no panic, want one naming %v", sentinel)
		}
		if err, ok := r.(error); ok && errors.Is(err, sentinel) && strings.Contains(err.Error(), sentinel.Error()) {
			return
		}
		if !strings.Contains(fmt.Sprint(r), sentinel.Error()) {
			t.Fatalf("panic %v does not name %v", r, sentinel)
		}
	}()
	f()
}
