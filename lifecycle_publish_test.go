//go:build linux

package shmtensor

// Publish: unpublished segments get their name atomically, or none.

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/sys"
)

func TestPublish(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			a, err := Create[int32](name, []int{4, 5}, Unpublished())
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			a.Set(7, 3, 4)
			if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
				t.Fatalf("Stat of an unpublished segment: %v, want ErrNotExist", err)
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("unpublished segment visible under %v", got)
			}
			if err := a.Segment().Publish(); err != nil {
				t.Fatal(err)
			}
			b, err := Attach[int32](name)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.At(3, 4) != 7 || b.Segment().ID() != a.Segment().ID() {
				t.Fatalf("attached %v (id %v), want 7 from id %v", b.At(3, 4), b.Segment().ID(), a.Segment().ID())
			}
			if err := a.Segment().Publish(); !errors.Is(err, ErrExist) {
				t.Fatalf("second Publish: %v, want ErrExist", err)
			}
			if err := a.Segment().Replace(); !errors.Is(err, ErrExist) {
				t.Fatalf("Replace after Publish: %v, want ErrExist", err)
			}
			a.Close()
			if _, err := Stat(name); err != nil {
				t.Fatalf("Close of a published segment removed it: %v", err)
			}
			if err := Delete(name); err != nil {
				t.Fatal(err)
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

func TestUnpublishedCloseLeavesNothing(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			var before []string
			if kind == "file" {
				before, _ = filepath.Glob(filepath.Join(dirOf(t, name), "*"))
			}
			a, err := Create[float64](name, []int{100}, Unpublished(), SharedArrayLayout())
			if err != nil {
				t.Fatal(err)
			}
			a.Fill(1)
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := Stat(name); !errors.Is(err, ErrNotExist) {
				t.Fatalf("Stat after closing unpublished: %v", err)
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
			if kind == "file" {
				after, _ := filepath.Glob(filepath.Join(dirOf(t, name), ".*"))
				after2, _ := filepath.Glob(filepath.Join(dirOf(t, name), "*"))
				if len(after)+len(after2) != len(before) {
					t.Fatalf("directory holds %v %v, before %v", after, after2, before)
				}
			}
			if err := a.Segment().Publish(); !errors.Is(err, ErrClosed) {
				t.Fatalf("Publish after Close: %v, want ErrClosed", err)
			}
		})
	}
}

func TestPublishTaken(t *testing.T) {
	for kind, name := range lifecycleNames(t) {
		t.Run(kind, func(t *testing.T) {
			old, err := Create[float32](name, []int{3})
			if err != nil {
				t.Fatal(err)
			}
			old.Fill(1)
			defer old.Close()
			a, err := Create[float32](name, []int{3}, Unpublished())
			if err != nil {
				t.Fatalf("Unpublished create under a taken name: %v", err)
			}
			defer a.Close()
			a.Fill(2)
			if err := a.Segment().Publish(); !errors.Is(err, ErrExist) {
				t.Fatalf("Publish over a taken name: %v, want ErrExist", err)
			}
			// Still unpublished: Replace may name it.
			if err := a.Segment().Replace(); err != nil {
				t.Fatal(err)
			}
			b, err := Attach[float32](name)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.At(0) != 2 || old.At(0) != 1 {
				t.Fatalf("after replace: new attach sees %v, old holder %v; want 2 and 1", b.At(0), old.At(0))
			}
			if got := leftovers(t, name); len(got) > 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

// TestUnpublishedSurvivesRemoveStale: on a filesystem without O_TMPFILE an
// Unpublished segment has a temporary name, however long it is filled;
// RemoveStale leaves it while it is mapped or open.
func TestUnpublishedSurvivesRemoveStale(t *testing.T) {
	saved := openTmpfile
	t.Cleanup(func() { openTmpfile = saved })
	openTmpfile = func(string, uint32) (int, error) { return -1, syscall.EOPNOTSUPP }
	name := tempFileName(t, "x.npy")
	dir := dirOf(t, name)
	a, err := Create[int16](name, []int{8}, Unpublished())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tmp := leftovers(t, name)
	if len(tmp) != 1 {
		t.Fatalf("temporary names %v, want one", tmp)
	}
	old := time.Now().Add(-2 * StaleAge)
	os.Chtimes(tmp[0], old, old)
	if removed, err := RemoveStale(dir, StaleAge); err != nil || len(removed) > 0 {
		t.Fatalf("RemoveStale removed %v, %v: the file is mapped", removed, err)
	}
	a.Fill(5)
	if err := a.Segment().Publish(); err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, name); len(got) > 0 {
		t.Fatalf("left behind %v", got)
	}
	// An unmapped one of the same age is stale.
	b, err := Create[int16](name+"2", []int{8}, Unpublished())
	if err != nil {
		t.Fatal(err)
	}
	tmp = leftovers(t, name+"2")
	os.Chtimes(tmp[0], old, old)
	// Unmapped but still open, as while Create reserves the pages: still
	// in use. (A killed creator's file, neither mapped nor open, is
	// removed: TestLeftoversOfKilledProcesses.)
	sys.Unmap(b.Segment().mem)
	b.Segment().mem = nil
	if removed, err := RemoveStale(dir, StaleAge); err != nil || len(removed) != 0 {
		t.Fatalf("RemoveStale removed %v, %v; the file is open", removed, err)
	}
	b.Close()
	if got := leftovers(t, name+"2"); len(got) > 0 {
		t.Fatalf("left behind %v", got)
	}
}
