//go:build linux

package shmtensor

// Mappers of segments mapped by other processes: numpy, another user.

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shmtensor/shmtensor/internal/numpytest"
)

// TestMappersNumpy: a numpy process mapping a segment is one of its
// Mappers, and is gone from them when it exits.
func TestMappersNumpy(t *testing.T) {
	needNumpy(t)
	name := uniqueName(t)
	a, err := Create[float32](name, []int{1000})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	cmd := numpytest.Map(t, "/dev/shm/"+name)
	pid := cmd.Process.Pid
	pids, err := Mappers(name)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, pid) || slices.Contains(pids, os.Getpid()) {
		t.Fatalf("Mappers = %v, want numpy's %d and not this process", pids, pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if pids, err = Mappers(name); err != nil || len(pids) != 0 {
		t.Fatalf("Mappers after numpy exited = %v, %v", pids, err)
	}
}

// TestMappersOtherUser: run as another user (needs root, which CI has),
// Mappers sees that user's own processes but not root's, whose
// /proc/PID/maps it may not read.
func TestMappersOtherUser(t *testing.T) {
	needRoot(t, "run a child as another user")
	name := uniqueName(t)
	a, err := Create[float32](name, []int{16}, Mode(0o644))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if pids, _ := Mappers(name); !slices.Contains(pids, os.Getpid()) {
		t.Fatalf("root's Mappers %v lacks this process", pids)
	}
	out, err := runAsNobody(t, nobodyExe(t), "mappers", name)
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	got := strings.Trim(strings.TrimSpace(string(out)), "[]")
	t.Logf("as nobody, Mappers = [%s]; this process is %d", got, os.Getpid())
	if strings.Contains(" "+got+" ", fmt.Sprintf(" %d ", os.Getpid())) || got == "" {
		t.Fatalf("as nobody, Mappers = [%s]: want the child itself and not root's process %d", got, os.Getpid())
	}
}
