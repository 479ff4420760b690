//go:build linux

package shmtensor

// Leftovers of processes killed in the middle, found and removed whatever
// their age, and hidden files that live processes use, left alone.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func init() {
	// fill-unpublished creates an Unpublished segment on the temporary-
	// name path (as on a filesystem without O_TMPFILE) and fills it until
	// killed.
	childRoles["fill-unpublished"] = func(name string) error {
		openTmpfile = func(string, uint32) (int, error) { return -1, syscall.EOPNOTSUPP }
		a, err := Create[float64](name, []int{1024}, Unpublished())
		if err != nil {
			return err
		}
		fmt.Println("filling")
		for i := 0; ; i++ {
			a.Set(float64(i), i%1024)
		}
	}
	// delete-stall deletes the segment and stops, until killed, between
	// moving it aside and unlinking it.
	childRoles["delete-stall"] = func(name string) error {
		testHookAside = func(string) {
			fmt.Println("aside")
			for {
				time.Sleep(time.Hour)
			}
		}
		return Delete(name)
	}
	// lock-stall stops, until killed, in AttachOrCreate's init, holding
	// the creation lock.
	childRoles["lock-stall"] = func(name string) error {
		_, _, err := AttachOrCreate(name, []int{4}, func(*Tensor[float64]) error {
			fmt.Println("init")
			for {
				time.Sleep(time.Hour)
			}
		})
		return err
	}
}

// leftoversOf returns the leftovers in /dev/shm whose names contain name.
func leftoversOf(t *testing.T, name string) []Leftover {
	t.Helper()
	all, err := Leftovers("")
	if err != nil {
		t.Fatal(err)
	}
	var out []Leftover
	for _, l := range all {
		if strings.Contains(filepath.Base(l.Path), name) {
			out = append(out, l)
		}
	}
	return out
}

// TestLeftoversOfKilledProcesses: the hidden file a process leaves when
// killed while filling an Unpublished segment on the temporary-name path,
// between Delete's move aside and unlink, or holding AttachOrCreate's
// lock, is no leftover while the process lives (it maps, holds open or
// locks it), and is one, found and removed at once, when it is killed.
func TestLeftoversOfKilledProcesses(t *testing.T) {
	for _, c := range []struct {
		role, says, kind string
		before           func(t *testing.T, name string)
	}{
		{"fill-unpublished", "filling", "creating", nil},
		{"delete-stall", "aside", "deleting", func(t *testing.T, name string) {
			a, err := Create[float64](name, []int{4})
			if err != nil {
				t.Fatal(err)
			}
			a.Close()
		}},
		{"lock-stall", "init", "lock", nil},
	} {
		t.Run(c.role, func(t *testing.T) {
			name := uniqueName(t)
			t.Cleanup(func() {
				for _, p := range []string{name, tempPrefix + name, asidePrefix + name, lockPrefix + name} {
					removeByPrefix(p)
				}
			})
			if c.before != nil {
				c.before(t, name)
			}
			out, stop := startChild(t, child(c.role, name))
			if line, err := out.ReadString('\n'); strings.TrimSpace(line) != c.says {
				t.Fatalf("child said %q, %v", line, err)
			}
			hidden, _ := filepath.Glob(filepath.Join("/dev/shm", reservedPrefix+"*"+name+"*"))
			if len(hidden) != 1 {
				t.Fatalf("hidden files %v, want one", hidden)
			}
			if l := leftoversOf(t, name); len(l) > 0 {
				t.Fatalf("a live process's hidden file is listed as a leftover: %+v", l)
			}
			id, err := lstatID(hidden[0])
			if err != nil {
				t.Fatal(err)
			}
			if err := RemoveLeftover(hidden[0], id); err == nil || !strings.Contains(err.Error(), "uses it") {
				t.Fatalf("RemoveLeftover of a live process's hidden file: %v", err)
			}
			stop()
			l := leftoversOf(t, name)
			if len(l) != 1 || l[0].Path != hidden[0] || l[0].Kind != c.kind || l[0].Foreign {
				t.Fatalf("leftovers after the kill: %+v, want %s of kind %s", l, hidden[0], c.kind)
			}
			if err := RemoveLeftover(l[0].Path, l[0].ID); err != nil {
				t.Fatal(err)
			}
			if left, _ := filepath.Glob(filepath.Join("/dev/shm", reservedPrefix+"*"+name+"*")); len(left) > 0 {
				t.Fatalf("left after RemoveLeftover: %v", left)
			}
		})
	}
}

// TestLeftoverForeignAsideKept: a foreign file at Delete's private name (a
// Delete killed before giving it back) is listed as foreign and never
// removed.
func TestLeftoverForeignAsideKept(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, asidePrefix+"x.npy-0123456789abcdef")
	if err := os.WriteFile(p, []byte("not a tensor"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Leftovers(dir)
	if err != nil || len(l) != 1 || !l[0].Foreign || l[0].Kind != "deleting" {
		t.Fatalf("leftovers %+v, %v; want the foreign file", l, err)
	}
	if err := RemoveLeftover(p, l[0].ID); !errors.Is(err, ErrNotTensor) {
		t.Fatalf("RemoveLeftover of a foreign file: %v", err)
	}
	if removed, err := RemoveStale(dir, 0); err != nil || len(removed) > 0 {
		t.Fatalf("RemoveStale removed %v, %v", removed, err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "not a tensor" {
		t.Fatalf("the foreign file: %q, %v", b, err)
	}
}
