package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/numpytest"
	"golang.org/x/sys/unix"
)

func TestWaitCommand(t *testing.T) {
	name := uniqueName(t)
	r := want(t, 1, "wait", "--timeout", "50ms", name)
	contains(t, "stderr", r.stderr, "timed out after 50ms waiting for shm://"+name)
	want(t, 2, "wait", "--timeout", "-1s", name)

	// A waiting command returns once the segment is published.
	cmd := exec.Command(exe, "wait", "--timeout", "60s", name)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitInotifyWatch(t, cmd.Process.Pid) // created while it waits, not before
	want(t, 0, "create", name, "float32", "3")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("wait after create: %v", err)
	}
	want(t, 0, "wait", name) // there already

	// --replaced waits for another segment under the name.
	want(t, 1, "wait", "--replaced", "--timeout", "50ms", name)
	cmd = exec.Command(exe, "wait", "--replaced", "--timeout", "60s", name)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// The child reads the segment it must see replaced when it starts,
	// which on a loaded machine can be after a first Replace: replace
	// again until it returns, so the test does not depend on who is first.
	for {
		next, err := shmtensor.Create[float32](name, []int{3}, shmtensor.Unpublished())
		if err != nil {
			t.Fatal(err)
		}
		err = next.Segment().Replace()
		next.Close()
		if err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("wait --replaced after Replace: %v", err)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitInotifyWatch returns once process pid has an inotify watch in
// place, which a waiting wait command has from before its first look at
// the name: anything created afterwards ends its wait.
func waitInotifyWatch(t *testing.T, pid int) {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if b, err := os.ReadFile(dir + "/" + e.Name()); err == nil && strings.Contains(string(b), "inotify wd:") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d set no inotify watch in a minute", pid)
		}
	}
}

func TestWhoAndListMappers(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create", name, "float64", "10")
	r := want(t, 0, "who", name)
	if r.stdout != "" {
		t.Fatalf("who of an unmapped segment printed %q", r.stdout)
	}
	contains(t, "stderr", r.stderr, "no process maps shm://"+name)
	pid := numpytest.Map(t, "/dev/shm/"+name).Process.Pid
	r = want(t, 0, "who", name)
	contains(t, "who's output", r.stdout, fmt.Sprintf("%d\t", pid), "map_segment.py")
	r = want(t, 0, "list", "--mappers")
	found := false
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			found = f[len(f)-1] == strconv.Itoa(pid)
		}
	}
	if !found {
		t.Fatalf("list --mappers does not show pid %d for %s:\n%s", pid, name, r.stdout)
	}
	contains(t, "list --json --mappers", want(t, 0, "list", "--json", "--mappers").stdout, fmt.Sprintf(`"mappers": [
      %d
    ]`, pid))
	want(t, 1, "who", uniqueName(t))
}

// TestGC: gc deletes only unmapped, old, matching segments, and the stale
// hidden files of those names; a segment mapped by numpy, a new one and one
// not matching stay, and so does a lock file a process holds.
func TestGC(t *testing.T) {
	prefix := uniqueName(t)
	names := map[string]string{}
	for _, k := range []string{"old", "mapped", "new", "other"} {
		n := prefix + "-" + k
		if k == "other" {
			n = "x" + prefix
		}
		names[k] = n
		t.Cleanup(func() { os.Remove("/dev/shm/" + n) })
		want(t, 0, "create", n, "int32", "4")
	}
	old := time.Now().Add(-3 * time.Hour)
	for _, k := range []string{"old", "mapped", "other"} {
		if err := os.Chtimes("/dev/shm/"+names[k], old, old); err != nil {
			t.Fatal(err)
		}
	}
	numpytest.Map(t, "/dev/shm/"+names["mapped"])
	// Hidden files: a stale temporary file and lock file of the "old"
	// name, and a lock file held by this process.
	hidden := map[string]string{
		"tmp":  "/dev/shm/.shmtensor-creating-" + names["old"] + "-0123456789abcdef.tmp",
		"lock": "/dev/shm/.shmtensor-lock-" + names["old"],
		"held": "/dev/shm/.shmtensor-lock-" + names["mapped"],
	}
	for _, p := range hidden {
		t.Cleanup(func() { os.Remove(p) })
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
	}
	held, err := os.OpenFile(hidden["held"], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(held.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		t.Fatal(err)
	}

	match := "--match=" + prefix + "-*"
	r := want(t, 0, "gc", "--older-than", "1h", match)
	contains(t, "gc's dry run", r.stdout, "would delete segment shm://"+names["old"], hidden["tmp"], hidden["lock"])
	for _, k := range []string{"mapped", "new", "other"} {
		if strings.Contains(r.stdout, names[k]+" ") || strings.Contains(r.stdout, hidden["held"]) {
			t.Fatalf("gc would delete %s:\n%s", k, r.stdout)
		}
	}
	if n := strings.Count(r.stdout, "\n"); n != 3 {
		t.Fatalf("gc lists %d items, want 3:\n%s", n, r.stdout)
	}
	contains(t, "stderr", r.stderr, "3 to delete; run again with --yes")
	for _, k := range []string{"old", "mapped", "new", "other"} {
		if _, err := shmtensor.Stat(names[k]); err != nil {
			t.Fatalf("dry run deleted %s: %v", k, err)
		}
	}

	r = want(t, 0, "gc", "--older-than", "1h", match, "--yes")
	contains(t, "gc --yes", r.stdout, "deleted segment shm://"+names["old"], "deleted temporary file "+hidden["tmp"], "deleted lock file "+hidden["lock"])
	if _, err := shmtensor.Stat(names["old"]); err == nil {
		t.Fatal("gc --yes left the old unmapped segment")
	}
	for _, k := range []string{"mapped", "new", "other"} {
		if _, err := shmtensor.Stat(names[k]); err != nil {
			t.Fatalf("gc --yes deleted %s: %v", k, err)
		}
	}
	for k, p := range hidden {
		_, err := os.Stat(p)
		if (k == "held") != (err == nil) {
			t.Fatalf("after gc --yes, %s: %v", p, err)
		}
	}
	// Everything old is gone: with no age limit the new one is listed.
	r = want(t, 0, "gc", "--older-than", "0s", match)
	contains(t, "gc --older-than 0s", r.stdout, "would delete segment shm://"+names["new"])
	want(t, 2, "gc", "--match", "[")
}
