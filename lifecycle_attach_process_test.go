//go:build linux

package shmtensor

// AttachOrCreate across processes: init runs once, and is taken over
// when its process is killed.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runRace starts n attach-or-create children at once and returns their
// outputs ("created" or "attached"), the init log, and the failures.
func runRace(t *testing.T, name string, n int, slowFirst bool) (created, attached int, inits []string, killed int, failures []string) {
	logPath := filepath.Join(t.TempDir(), "init.log")
	start := time.Now().Add(200 * time.Millisecond).UnixNano()
	env := []string{"SHMTENSOR_LOG=" + logPath, fmt.Sprintf("SHMTENSOR_START=%d", start)}
	if slowFirst {
		env = append(env, "SHMTENSOR_SLOW_FIRST=1")
	}
	cmds := make([]*exec.Cmd, n)
	outs := make([]strings.Builder, n)
	for i := range cmds {
		cmds[i] = child("attach-or-create", name, env...)
		cmds[i].Stdout = &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	var victim int
	if slowFirst {
		// Kill the first initialiser in the middle of its init.
		for victim == 0 {
			time.Sleep(time.Millisecond)
			log, _ := os.ReadFile(logPath)
			if f := strings.Fields(string(log)); len(f) >= 2 {
				victim, _ = strconv.Atoi(f[1])
			}
		}
		syscall.Kill(victim, syscall.SIGKILL)
	}
	for i, cmd := range cmds {
		err := cmd.Wait()
		switch s := strings.TrimSpace(outs[i].String()); {
		case cmd.Process.Pid == victim:
			killed++
		case err != nil:
			failures = append(failures, fmt.Sprintf("pid %d: %v %q", cmd.Process.Pid, err, s))
		case s == "created":
			created++
		case s == "attached":
			attached++
		default:
			failures = append(failures, s)
		}
	}
	log, _ := os.ReadFile(logPath)
	inits = strings.Split(strings.TrimSpace(string(log)), "\n")
	return
}

// TestAttachOrCreate16Processes: 16 processes race; exactly one runs init
// and all others attach what it published; for shm names and then for a
// regular file.
func TestAttachOrCreate16Processes(t *testing.T) {
	rounds := *lifecycleRounds
	if testing.Short() {
		rounds = 3
	}
	for round := range rounds + 3 {
		name := uniqueName(t)
		if round >= rounds { // a few rounds on a regular file too
			name = tempFileName(t, "fixture.npy")
		}
		created, attached, inits, _, failures := runRace(t, name, 16, false)
		if len(failures) > 0 || created != 1 || attached != 15 || len(inits) != 1 {
			t.Fatalf("round %d: %d created, %d attached, inits %q, failures %v", round, created, attached, inits, failures)
		}
		if got := leftovers(t, name); len(got) > 0 {
			t.Fatalf("round %d left %v", round, got)
		}
		if err := Delete(name); err != nil {
			t.Fatal(err)
		}
	}
}

// TestAttachOrCreateInitKilled: the first initialiser is SIGKILLed in the
// middle of init; another takes over and publishes once.
func TestAttachOrCreateInitKilled(t *testing.T) {
	rounds := max(*lifecycleRounds/5, 2)
	if testing.Short() {
		rounds = 1
	}
	for round := range rounds {
		name := uniqueName(t)
		t.Cleanup(func() { os.Remove("/dev/shm/" + lockPrefix + name) })
		created, attached, inits, killed, failures := runRace(t, name, 16, true)
		if len(failures) > 0 || killed != 1 || created != 1 || attached != 14 || len(inits) != 2 {
			t.Fatalf("round %d: %d killed, %d created, %d attached, inits %q, failures %v", round, killed, created, attached, inits, failures)
		}
		if got := leftovers(t, name); len(got) > 0 {
			t.Fatalf("round %d left %v", round, got)
		}
		if err := Delete(name); err != nil {
			t.Fatal(err)
		}
	}
}
