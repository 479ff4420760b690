package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/shmtensor/shmtensor"

	"github.com/shmtensor/shmtensor/internal/testenv"
)

// nsArgs is the unshare command line that runs the command with args in a
// PID namespace of its own.
func nsArgs(unshare string, args ...string) []string {
	return append([]string{"--pid", "--fork", "--mount-proc", "--kill-child", exe}, args...)
}

// TestWhoAndGCAcrossNamespaces: a segment attached by "shmtensor lock" in
// one PID namespace is, from a sibling namespace whose /proc does not show
// that process, reported by who as attached by an unseen process, marked
// "unseen" by list --mappers, and left alone by gc --yes --older-than 0s
// (exit 0); once the holder is killed, gc deletes it.
func TestWhoAndGCAcrossNamespaces(t *testing.T) {
	unshare := testenv.NeedUnshare(t)
	name := uniqueName(t)
	want(t, 0, "create", name, "float32", "8")
	holder := exec.Command(unshare, nsArgs(unshare, "lock", "--shared", name, "--", "sh", "-c", "echo ready; exec sleep 600")...)
	out, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { holder.Process.Kill(); holder.Wait() }()
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("holder: %q, %v", line, err)
	}
	inNS := func(code int, args ...string) result {
		t.Helper()
		cmd := exec.Command(unshare, nsArgs(unshare, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		got := 0
		if ee, ok := err.(*exec.ExitError); ok {
			got = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if got != code {
			t.Fatalf("shmtensor %q in another namespace: exit %d, want %d\n%s%s", args, got, code, o.String(), e.String())
		}
		return result{stdout: o.String(), stderr: e.String(), code: got}
	}
	r := inNS(0, "who", name)
	contains(t, "who from another namespace", r.stdout, "-\t(a process that /proc does not show has it attached")
	r = inNS(0, "list", "--mappers")
	found := false
	for _, line := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			found = f[len(f)-1] == "unseen"
		}
	}
	if !found {
		t.Fatalf("list --mappers from another namespace does not say unseen for %s:\n%s", name, r.stdout)
	}
	r = inNS(0, "gc", "--older-than", "0s", "--match", name, "--yes")
	if strings.Contains(r.stdout, "deleted") {
		t.Fatalf("gc deleted a segment attached in another namespace:\n%s", r.stdout)
	}
	if _, err := shmtensor.Stat(name); err != nil {
		t.Fatalf("after gc from another namespace: %v", err)
	}
	// Kill the holder (pid 1 of its namespace: the whole namespace goes).
	kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", holder.Process.Pid, holder.Process.Pid))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(kids)))
	if err != nil || pid <= 0 {
		t.Fatalf("the holder's pid: %q, %v", kids, err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	holder.Wait()
	r = inNS(0, "gc", "--older-than", "0s", "--match", name, "--yes")
	contains(t, "gc after the holder died", r.stdout, "deleted segment shm://"+name)
	if _, err := shmtensor.Stat(name); err == nil {
		t.Fatal("gc left the segment once its holder died")
	}
}

// TestGCLeftAloneIsNoFailure: a segment that gc's scan found unused but
// that is attached when gc comes to delete it is refused with leftAlone,
// which runGC prints as "left alone" and does not count as a failure.
func TestGCLeftAloneIsNoFailure(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create", name, "float32", "8")
	in, err := shmtensor.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	a, err := shmtensor.Attach[float32](name) // after the scan
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	err = gcDelete(gcItem{"segment", "shm://" + name, in.ID, ""})
	if r, ok := err.(leftAlone); !ok || !strings.Contains(string(r), "segment is in use: attached by a process") {
		t.Fatalf("gcDelete of a segment attached since the scan: %v; want a leftAlone saying it is attached", err)
	}
	if _, err := shmtensor.Stat(name); err != nil {
		t.Fatalf("after the refusal: %v", err)
	}
}
