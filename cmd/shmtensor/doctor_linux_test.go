package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// doctorJSONOf runs "doctor --json ARGS" through sh, after the shell
// commands pre, and decodes its object.
func doctorJSONOf(t *testing.T, pre string, args ...string) jsonLimits {
	t.Helper()
	script := pre + `exec "$0" doctor --json "$@"`
	cmd := exec.Command("sh", append([]string{"-c", script, exe}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("doctor --json %q: %v\n%s", args, err, stderr.String())
	}
	var l jsonLimits
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	return l
}

// TestDoctor checks doctor's figures against statfs, getrlimit and
// /proc read here, and the ones it derives from them.
func TestDoctor(t *testing.T) {
	r := want(t, 0, "doctor")
	for _, row := range []string{"filesystem:", "size:", "huge pages:", "memory cgroup:", "mappings:", "open files:", "locked memory:", "largest tensor:", "open tensors:"} {
		if !strings.Contains(r.stdout, "\n"+row) && !strings.HasPrefix(r.stdout, row) {
			t.Errorf("doctor prints no %q row:\n%s", row, r.stdout)
		}
	}
	l := doctorJSONOf(t, "")
	var st unix.Statfs_t
	if err := unix.Statfs("/dev/shm", &st); err != nil {
		t.Fatal(err)
	}
	if l.Dir != "/dev/shm" || l.FS.Type != "tmpfs" || !l.FS.Tmpfs || l.FS.MountPoint != "/dev/shm" {
		t.Errorf("doctor's filesystem: %+v", l.FS)
	}
	if size := int64(st.Blocks) * int64(st.Bsize); l.FS.Size != size {
		t.Errorf("size %d, statfs says %d", l.FS.Size, size)
	}
	// Other tests create and delete segments meanwhile: free space moves.
	if free := int64(st.Bavail) * int64(st.Bsize); l.FS.Free < free-1<<30 || l.FS.Free > free+1<<30 {
		t.Errorf("free %d, statfs says %d", l.FS.Free, free)
	}
	if !strings.Contains(l.FS.SuperOptions, "size=") || l.FS.HugePages == "" {
		t.Errorf("options %q, huge pages %q", l.FS.SuperOptions, l.FS.HugePages)
	}
	var nofile, memlock unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile)
	unix.Getrlimit(unix.RLIMIT_MEMLOCK, &memlock)
	if l.OpenFiles.Cur != int64(nofile.Cur) || l.OpenFiles.Max != int64(nofile.Max) {
		t.Errorf("open files %+v, getrlimit says %+v", l.OpenFiles, nofile)
	}
	if memlock.Cur != unix.RLIM_INFINITY && l.Memlock.Cur != int64(memlock.Cur) {
		t.Errorf("memlock %+v, getrlimit says %+v", l.Memlock, memlock)
	}
	b, _ := os.ReadFile("/proc/sys/vm/max_map_count")
	if n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); l.MaxMapCount != n || l.MapHeadroom != 1024 {
		t.Errorf("max_map_count %d (headroom %d), /proc says %d", l.MaxMapCount, l.MapHeadroom, n)
	}
	checkDerived(t, l)
	if !strings.Contains(r.stdout, fmt.Sprintf("RLIMIT_NOFILE %d", nofile.Cur)) {
		t.Errorf("doctor's text does not give RLIMIT_NOFILE %d:\n%s", nofile.Cur, r.stdout)
	}

	// A lower open-files limit lowers the number of segments: a process
	// with 64 descriptors can open fewer than 64 more.
	low := doctorJSONOf(t, "ulimit -n 64; ")
	if low.OpenFiles.Cur != 64 || low.MoreSegments != 64-low.OpenNow {
		t.Errorf("under ulimit -n 64: open files %+v, %d open, %d more segments", low.OpenFiles, low.OpenNow, low.MoreSegments)
	}
}

// checkDerived checks the largest segment and the number of segments
// against the figures they come from.
func checkDerived(t *testing.T, l jsonLimits) {
	t.Helper()
	largest := l.FS.Free
	if l.Cgroup.Room >= 0 && l.Cgroup.Room < largest {
		largest = l.Cgroup.Room
	}
	if l.LargestSegment != largest {
		t.Errorf("largest segment %d, want the least of free %d and cgroup room %d", l.LargestSegment, l.FS.Free, l.Cgroup.Room)
	}
	more := min(l.OpenFiles.Cur-l.OpenNow, l.MaxMapCount-l.Mappings-l.MapHeadroom)
	if l.OpenNow <= 0 || l.Mappings <= 0 || l.MoreSegments != more {
		t.Errorf("more segments %d, want %d from %+v", l.MoreSegments, more, l)
	}
}

// TestDoctorSmallTmpfs: for a directory on a 1 MiB huge=advise tmpfs,
// doctor reports that filesystem, its huge= setting, and at most 1 MiB as
// the largest segment.
func TestDoctorSmallTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m,huge=advise"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	l := doctorJSONOf(t, "", "file://"+dir)
	if l.Dir != dir || l.FS.MountPoint != dir || l.FS.Size != 1<<20 || l.FS.HugePages != "advise" || l.LargestSegment > 1<<20 {
		t.Errorf("doctor of a 1 MiB huge=advise tmpfs at %s: %+v, largest %d", dir, l.FS, l.LargestSegment)
	}
	r := want(t, 0, "doctor", dir)
	if !strings.Contains(r.stdout, "huge=advise: HugePages() gets 2 MiB pages") || !strings.Contains(r.stdout, "1.0 MiB") {
		t.Errorf("doctor %s:\n%s", dir, r.stdout)
	}
	if r := runCmd(t, "doctor", filepath.Join(dir, "missing")); r.code != 1 || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("doctor of a missing directory: exit %d, %q", r.code, r.stderr)
	}
}

// TestDoctorInCgroup runs doctor in a memory cgroup limited to 64 MiB (as
// root): it reports the limit, and a largest segment under it.
func TestDoctorInCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("making a memory cgroup needs root")
	}
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip(err)
	}
	parent := ""
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 && strings.Contains(","+f[1]+",", ",memory,") {
			parent = filepath.Join("/sys/fs/cgroup/memory", f[2])
		}
	}
	if parent == "" {
		t.Skip("no cgroup v1 memory hierarchy here")
	}
	dir := filepath.Join(parent, fmt.Sprintf("shmtensor-test-cmd-%d-%d", os.Getpid(), time.Now().UnixNano()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		if os.Getenv("CI") == "true" && !errors.Is(err, syscall.EROFS) && !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("root cannot make a cgroup: %v", err)
		}
		t.Skipf("cannot make a cgroup: %v", err)
	}
	defer func() {
		for range 100 {
			if os.Remove(dir) == nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("cannot remove the cgroup %s", dir)
	}()
	if err := os.WriteFile(filepath.Join(dir, "memory.limit_in_bytes"), []byte("67108864"), 0); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	l := doctorJSONOf(t, "echo $$ > "+filepath.Join(dir, "cgroup.procs")+" && ")
	c := l.Cgroup
	if c.Version != 1 || c.Dir != dir || c.Limit != 64<<20 || c.Usage <= 0 || c.Room <= 0 || c.Room > 64<<20 || l.LargestSegment != c.Room {
		t.Errorf("doctor in a 64 MiB cgroup: %+v, largest %d", c, l.LargestSegment)
	}
}
