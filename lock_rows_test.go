//go:build linux

package shmtensor

// Row locks: disjoint rows, their byte ranges, Fortran order.

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/codec"
)

func TestLockRowsDisjoint(t *testing.T) {
	a, b := twoAttaches(t, 6, 5)
	ctx := context.Background()
	u1 := mustLock(t, "rows 0:2")(a.LockRows(ctx, 0, 2))
	u2 := mustLock(t, "rows 2:4")(b.LockRows(ctx, 2, 4))
	u3 := mustLock(t, "shared rows 4:6")(a.RLockRows(ctx, 4, 6))
	u4 := mustLock(t, "shared rows 5:6")(b.RLockRows(ctx, 5, 6))
	blocked(t, "rows 1:3", func(ctx context.Context) (func(), error) { return b.LockRows(ctx, 1, 3) })
	blocked(t, "shared rows 3:4", func(ctx context.Context) (func(), error) { return a.RLockRows(ctx, 3, 4) })
	blocked(t, "rows 5:6", func(ctx context.Context) (func(), error) { return a.LockRows(ctx, 5, 6) })
	blocked(t, "whole RLock", b.RLock)
	if _, err := b.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock under row locks: %v", err)
	}
	u1()
	u2()
	u3()
	u4()
	mustLock(t, "Lock after row unlocks")(b.TryLock())()
}

// TestLockRowsByteRanges checks the bytes each lock covers against a
// fcntl(F_OFD_GETLK) probe, which is what a Python or C process sees: the
// recipe in docs/coordination.md depends on these ranges.
func TestLockRowsByteRanges(t *testing.T) {
	a, _ := twoAttaches(t, 6, 5) // int32: 20 bytes a row, data at 4096
	probe, err := unix.Open("/dev/shm/"+a.Name()[len("shm://"):], unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(probe)
	lockedAt := func(off int64) bool {
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: off, Len: 1}
		if err := unix.FcntlFlock(uintptr(probe), unix.F_OFD_GETLK, &lk); err != nil {
			t.Fatal(err)
		}
		return lk.Type != unix.F_UNLCK
	}
	check := func(what string, lo, hi int64) {
		t.Helper()
		for _, off := range []int64{0, 4095, lo - 1, lo, hi - 1, hi, 4096 + 120, 1 << 20} {
			if want := off >= lo && off < hi; lockedAt(off) != want {
				t.Fatalf("%s: byte %d locked = %v, want %v (lock covers [%d, %d))", what, off, !want, want, lo, hi)
			}
		}
	}
	u := mustLock(t, "rows 2:4")(a.LockRows(context.Background(), 2, 4))
	check("rows 2:4", 4096+2*20, 4096+4*20)
	u()
	u = mustLock(t, "Lock")(a.Lock(context.Background()))
	check("Lock", 4096, 4096+6*20)
	u()
	if lockedAt(4096) {
		t.Fatal("a byte stays locked after unlock")
	}
}

// TestLockRowsFortran: rows of a Fortran-order array are spread over the
// data, so row locks there cover all of it and conflict with each other.
func TestLockRowsFortran(t *testing.T) {
	h, err := newHeader(NPY, Int32, []int{6, 5}, true)
	if err != nil {
		t.Fatal(err)
	}
	hdr := codec.EncodeNPYHeader(h, codec.NPYDataOffset)
	path := filepath.Join(t.TempDir(), "f.npy")
	if err := os.WriteFile(path, append(hdr, make([]byte, 6*5*4)...), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := Open("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open("file://" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !a.Fortran() {
		t.Fatal("segment not in Fortran order")
	}
	u := mustLock(t, "rows 0:1")(a.LockRows(context.Background(), 0, 1))
	blocked(t, "rows 5:6 of a Fortran array", func(ctx context.Context) (func(), error) { return b.RLockRows(ctx, 5, 6) })
	u()
	mustLock(t, "rows 5:6 after unlock")(b.LockRows(context.Background(), 5, 6))()
}

// TestTryForms: the try forms of the shared and row locks take a free lock
// and fail at once with ErrLocked on a held one, as TryLock does.
func TestTryForms(t *testing.T) {
	a, b := twoAttaches(t, 6, 5)
	ctx := context.Background()
	u := mustLock(t, "rows 0:2")(a.LockRows(ctx, 0, 2))
	if _, err := b.TryLockRows(1, 3); !errors.Is(err, ErrLocked) {
		t.Errorf("TryLockRows over held rows: %v, want ErrLocked", err)
	}
	if _, err := b.TryRLockRows(0, 1); !errors.Is(err, ErrLocked) {
		t.Errorf("TryRLockRows over held rows: %v, want ErrLocked", err)
	}
	if _, err := b.TryRLock(); !errors.Is(err, ErrLocked) {
		t.Errorf("TryRLock under a row lock: %v, want ErrLocked", err)
	}
	mustLock(t, "TryLockRows beside")(b.TryLockRows(2, 4))()
	if _, err := b.TryLockRows(4, 7); !errors.Is(err, ErrIndex) {
		t.Errorf("TryLockRows past the rows: %v, want ErrIndex", err)
	}
	u()
	r1 := mustLock(t, "TryRLock")(a.TryRLock())
	r2 := mustLock(t, "TryRLockRows under a shared lock")(b.TryRLockRows(0, 6))
	if _, err := b.TryLock(); !errors.Is(err, ErrLocked) {
		t.Errorf("TryLock under shared locks: %v, want ErrLocked", err)
	}
	r1()
	r2()
	mustLock(t, "TryLock once free")(b.TryLock())()
}
