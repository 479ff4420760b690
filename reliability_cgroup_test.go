//go:build linux

package shmtensor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/sys"
)

func init() { childRoles["cgroup-create"] = childCgroupCreate }

// childCgroupCreate moves itself into the cgroup SHMTENSOR_CGROUP, then
// makes a reserved Create of SHMTENSOR_SIZE bytes, which must fail with
// ENOSPC naming the limit, and one of SHMTENSOR_FITS bytes, which must work.
func childCgroupCreate(name string) error {
	dir := os.Getenv("SHMTENSOR_CGROUP")
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		return fmt.Errorf("joining the cgroup: %v", err)
	}
	size, _ := strconv.Atoi(os.Getenv("SHMTENSOR_SIZE"))
	fits, _ := strconv.Atoi(os.Getenv("SHMTENSOR_FITS"))
	t, err := Create[uint8](name, []int{size})
	if err == nil {
		t.Close()
		return fmt.Errorf("Create of %d bytes past the cgroup limit worked", size)
	}
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "memory cgroup limit") || !strings.Contains(err.Error(), dir) {
		return fmt.Errorf("Create past the limit: %v, want ENOSPC naming the cgroup limit of %s", err, dir)
	}
	fmt.Println(err)
	t, err = Create[uint8](name, []int{fits})
	if err != nil {
		return fmt.Errorf("Create of %d bytes within the limit: %v", fits, err)
	}
	t.Close()
	return Delete(name)
}

// TestCreatePastCgroupLimit runs a child in a memory cgroup limited to 64
// MiB: its reserved Create of 128 MiB fails with ENOSPC naming the limit,
// and the kernel's OOM killer, which a fallocate past the limit meets, is
// never reached.
func TestCreatePastCgroupLimit(t *testing.T) {
	const limit = 64 << 20
	dir, oomKills := limitedCgroup(t, limit)
	name := uniqueName(t)
	cmd := child("cgroup-create", name, "SHMTENSOR_CGROUP="+dir,
		"SHMTENSOR_SIZE="+strconv.Itoa(2*limit), "SHMTENSOR_FITS="+strconv.Itoa(16<<20))
	out, err := cmd.Output()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("the child was killed by %v (OOM kills in the cgroup: %d)", ws.Signal(), oomKills())
	}
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	if n := oomKills(); n != 0 {
		t.Fatalf("%d OOM kills in the cgroup", n)
	}
	t.Logf("%s", out)
}

// limitedCgroup makes a child of this process's memory cgroup limited to
// limit bytes, removed when the test ends, and returns its directory and
// a function counting the OOM kills in it. It skips the test where no
// cgroup can be made (not root, read-only cgroupfs), and fails it under
// CI=true where one could be made but the test cannot go on.
func limitedCgroup(t *testing.T, limit int64) (string, func() int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making a memory cgroup needs root")
	}
	cg, ok := sys.ReadMemoryCgroup()
	if !ok {
		t.Skip("no memory cgroup hierarchy is mounted")
	}
	if sys.SwapFree() > 0 {
		t.Skip("the system has swap, which the check counts as room: the limit is no wall")
	}
	dir := filepath.Join(cg.Levels[0].Dir, fmt.Sprintf("shmtensor-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		if errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			t.Skipf("cannot make a cgroup: %v", err)
		}
		cannot(t, "making a cgroup", err)
	}
	t.Cleanup(func() {
		// The child has exited; its charges go to the parent. The kernel
		// may take a moment to let go of an emptied cgroup.
		var err error
		for range 100 {
			if err = os.Remove(dir); err == nil || errors.Is(err, os.ErrNotExist) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("removing the cgroup: %v", err)
	})
	limitFile, events := "memory.limit_in_bytes", "memory.oom_control"
	if cg.Version == 2 {
		limitFile, events = "memory.max", "memory.events"
	}
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.FormatInt(limit, 10)), 0); err != nil {
		cannot(t, "setting the cgroup's limit", err)
	}
	return dir, func() int {
		b, _ := os.ReadFile(filepath.Join(dir, events))
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "oom_kill "); ok {
				n, _ := strconv.Atoi(v)
				return n
			}
		}
		return 0
	}
}

// cannot skips the test, or fails it under CI, where root could make a
// cgroup but the test cannot go on.
func cannot(t *testing.T, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v", what, err)
	}
	t.Skipf("%s: %v", what, err)
}

// TestMemoryLimitErrorIsENOSPC: an ENOMEM from the kernel's allocation of
// tmpfs pages (a cgroup whose OOM killer is disabled refuses so) is an
// ENOSPC to the caller, saying what was asked.
func TestMemoryLimitErrorIsENOSPC(t *testing.T) {
	f, err := os.CreateTemp("/dev/shm", "shmtensor-test-")
	if err != nil {
		t.Skip(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	err = memoryLimitError(int(f.Fd()), 1<<30, syscall.ENOMEM)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "1.0 GiB (1073741824 bytes)") {
		t.Fatalf("got %v, want ENOSPC saying 1 GiB was asked", err)
	}
}
