//go:build linux

package shmtensor

// Segments owned by others or not writable.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func init() { childRoles["attach-noperm"] = attachNoPerm }

// TestForeignOwnerRefused: Attach and Open refuse a segment owned by
// another user unless AnyOwner is given; root's segments stay attachable.
func TestForeignOwnerRefused(t *testing.T) {
	needRoot(t, "chown to another user")
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4}, Mode(0o666))
	if err != nil {
		t.Fatal(err)
	}
	a.Set(7, 3)
	a.Close()
	path := filepath.Join("/dev/shm", name)
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	_, err = Attach[float64](name)
	if !errors.Is(err, ErrPermission) || !errors.Is(err, fs.ErrPermission) ||
		!strings.Contains(err.Error(), "uid 65534") || !strings.Contains(err.Error(), "AnyOwner()") {
		t.Fatalf("Attach of a foreign segment: %v", err)
	}
	if _, err := Open(name, ReadOnly()); !errors.Is(err, ErrPermission) {
		t.Fatalf("Open of a foreign segment: %v", err)
	}
	// A cached uid that is not the caller's any more is read again before
	// anything is refused or let through.
	lastEUID.Store(4242 + 1)
	if _, err := Attach[float64](name); !errors.Is(err, ErrPermission) || !strings.Contains(err.Error(), "not by the caller (uid 0") {
		t.Fatalf("Attach of a foreign segment with a stale cached uid: %v", err)
	}
	if got := lastEUID.Load(); got != int64(os.Geteuid())+1 {
		t.Fatalf("cached uid %d after the refusal, want %d", got-1, os.Geteuid())
	}
	b, err := Attach[float64](name, AnyOwner())
	if err != nil || b.At(3) != 7 {
		t.Fatalf("Attach with AnyOwner: %v", err)
	}
	b.Close()
	if info, err := Stat(name); err != nil || info.UID != 65534 {
		t.Fatalf("Stat: %+v %v", info, err)
	}
	os.Chown(path, 0, 0)
	if _, err := Attach[float64](name); err != nil {
		t.Fatalf("root-owned segment refused: %v", err)
	}
}

// attachNoPerm runs as another user against a 0600 segment of root's:
// neither read-write nor read-only works, and the error does not suggest
// ReadOnly().
func attachNoPerm(name string) error {
	_, err := Attach[float64](name)
	if !errors.Is(err, ErrPermission) || !errors.Is(err, syscall.EACCES) || strings.Contains(err.Error(), "ReadOnly") {
		return fmt.Errorf("read-write attach as uid %d: %v, want permission denied without a ReadOnly hint", os.Getuid(), err)
	}
	if _, err := Attach[float64](name, ReadOnly()); !errors.Is(err, ErrPermission) {
		return fmt.Errorf("read-only attach: %v", err)
	}
	return nil
}

func TestReadOnlyHintOnlyWhereItHelps(t *testing.T) {
	needRoot(t, "run a child as another user")
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if out, err := runAsNobody(t, nobodyExe(t), "attach-noperm", name); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
