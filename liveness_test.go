//go:build linux

package shmtensor

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// liveLock reports what holds the liveness byte of the file at path, seen
// through a descriptor of its own.
func liveLock(t *testing.T, path string) (sys.LockHolder, bool) {
	t.Helper()
	fd, err := sys.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close(fd)
	h, held, err := sys.TestLock(fd, sys.LiveByte, 1)
	if err != nil {
		t.Fatal(err)
	}
	return h, held
}

// TestLiveLockHeldWhileOpen: Create, Attach and Open hold a shared lock on
// the liveness byte, beyond the end of the file, until Close.
func TestLiveLockHeldWhileOpen(t *testing.T) {
	name := uniqueName(t)
	path := sys.ShmDir + "/" + name
	c, err := Create[float32](name, []int{4, 4})
	if err != nil {
		t.Fatal(err)
	}
	if h, held := liveLock(t, path); !held || !h.Shared || h.Start != sys.LiveByte || h.Len != 1 || h.PID != -1 {
		t.Fatalf("after Create: held %v, %+v; want a shared OFD lock on byte %d", held, h, sys.LiveByte)
	}
	c.Close()
	if h, held := liveLock(t, path); held {
		t.Fatalf("after Close: %+v still held", h)
	}
	a, err := Attach[float32](name, ReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, held := liveLock(t, path); !held {
		t.Fatal("not held while attached")
	}
	// The data locks are untouched by it: an exclusive Lock of the data
	// goes through while two descriptions hold the liveness byte.
	unlock, err := s.TryLock()
	if err != nil {
		t.Fatalf("TryLock with the segment attached twice: %v", err)
	}
	unlock()
	pids, err := Mappers(name)
	if err != nil || !slices.Equal(pids, []int{os.Getpid()}) {
		t.Fatalf("Mappers = %v, %v; want this process %d (seen in /proc, not as unseen)", pids, err, os.Getpid())
	}
	a.Close()
	if _, held := liveLock(t, path); !held {
		t.Fatal("not held while one of two is still open")
	}
	s.Close()
	if h, held := liveLock(t, path); held {
		t.Fatalf("after both Close: %+v still held", h)
	}
}

// TestDeleteUnused: an unused segment is deleted; one attached (by this
// process, through another Segment), mapped without the package's lock, or
// replaced since is left alone with the error that says why.
func TestDeleteUnused(t *testing.T) {
	name := uniqueName(t)
	path := sys.ShmDir + "/" + name
	mk := func() FileID {
		t.Helper()
		c, err := Create[int64](name, []int{8})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.seg.ID()
	}
	id := mk()
	a, err := Attach[int64](name)
	if err != nil {
		t.Fatal(err)
	}
	if err := DeleteUnused(name, id); !errors.Is(err, ErrInUse) {
		t.Fatalf("DeleteUnused of an attached segment: %v, want ErrInUse", err)
	}
	a.Close()
	// A mapping without the lock, as numpy's, is seen in /proc.
	fd, err := sys.Open(path, false)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := sys.Map(fd, 4096+64, false, 0)
	sys.Close(fd)
	if err != nil {
		t.Fatal(err)
	}
	err = DeleteUnused(name, id)
	sys.Unmap(mem)
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("DeleteUnused of a segment mapped without the lock: %v, want ErrInUse", err)
	}
	if err := DeleteUnused(name, FileID{Dev: id.Dev, Ino: id.Ino + 1}); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("DeleteUnused of another file than asked: %v, want ErrNotTensor", err)
	}
	if _, err := Stat(name); err != nil {
		t.Fatalf("after three refusals: %v", err)
	}
	if err := DeleteUnused(name, id); err != nil {
		t.Fatalf("DeleteUnused of an unused segment: %v", err)
	}
	if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
		t.Fatalf("Stat after DeleteUnused: %v, want ErrNotExist", err)
	}
	if err := DeleteUnused(name, FileID{}); !errors.Is(err, ErrNotExist) {
		t.Fatalf("DeleteUnused of nothing: %v, want ErrNotExist", err)
	}
	if left, _ := os.ReadDir(sys.ShmDir); slices.ContainsFunc(left, func(e os.DirEntry) bool {
		return strings.HasPrefix(e.Name(), asidePrefix) && strings.Contains(e.Name(), name)
	}) {
		t.Fatal("a private name was left behind")
	}
}

// TestAttachWaitsForDeleter: an Attach that meets DeleteUnused's lock on
// the liveness byte does not map that file: it waits and looks the name up
// again, finding what is there once the deleter is done. A user's lock to
// the end of the file, which covers the byte too, does not hold it up.
func TestAttachWaitsForDeleter(t *testing.T) {
	name := uniqueName(t)
	path := sys.ShmDir + "/" + name
	mk := func(n string) FileID {
		t.Helper()
		c, err := Create[int64](n, []int{8})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.seg.ID()
	}
	mk(name)
	met := make(chan struct{}, 1)
	testHookDeleterMet = func() {
		select {
		case met <- struct{}{}:
		default:
		}
	}
	defer func() { testHookDeleterMet = nil }()

	// A lock to the end of the file is a user's: Attach goes on, unmarked.
	fd, err := sys.Open(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.SetLock(fd, 0, 0, false, false); err != nil {
		t.Fatal(err)
	}
	a, err := Attach[int64](name)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	select {
	case <-met:
		t.Fatal("Attach waited for a user's lock to the end of the file")
	default:
	}
	sys.ClearLock(fd, 0, 0)

	// The deleter's lock: Attach waits, then finds the new segment.
	if err := sys.SetLock(fd, sys.LiveByte, 1, false, false); err != nil {
		t.Fatal(err)
	}
	type res struct {
		id  FileID
		err error
	}
	done := make(chan res, 1)
	go func() {
		a, err := Attach[int64](name)
		if err != nil {
			done <- res{err: err}
			return
		}
		defer a.Close()
		done <- res{id: a.seg.ID()}
	}()
	select {
	case <-met:
	case r := <-done:
		t.Fatalf("Attach returned %+v without waiting for the deleter", r)
	case <-time.After(10 * time.Second):
		t.Fatal("Attach never met the deleter's lock")
	}
	other := name + "-new"
	newID := mk(other)
	defer removeShm(other)
	if err := sys.Rename(sys.ShmDir+"/"+other, path); err != nil {
		t.Fatal(err)
	}
	sys.Close(fd) // the deleter is done
	r := <-done
	if r.err != nil || r.id != newID {
		t.Fatalf("Attach after the deleter: %v, file %v; want the new file %v", r.err, r.id, newID)
	}
}
