//go:build linux

package shmtensor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Multi-process tests re-run the test binary as a child with
// SHMTENSOR_CHILD naming the role; TestMain dispatches to it.
func TestMain(m *testing.M) {
	if role := os.Getenv("SHMTENSOR_CHILD"); role != "" {
		if err := runChild(role, os.Getenv("SHMTENSOR_NAME")); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChild(role, name string) error {
	switch role {
	case "attach-write":
		// Attach, check what the parent wrote, write back.
		a, err := Attach[float64](name)
		if err != nil {
			return err
		}
		defer a.Close()
		if got := a.At(1, 2); got != 12.5 {
			return fmt.Errorf("child sees %v at (1,2), want 12.5", got)
		}
		sh := a.Shape()
		for i := range sh[0] {
			for j := range sh[1] {
				a.Set(float64(os.Getpid()+i*sh[1]+j), i, j)
			}
		}
		fmt.Println(os.Getpid())
		return nil
	case "race-create":
		// Wait for the start signal so every child calls Create at once.
		start, _ := strconv.ParseInt(os.Getenv("SHMTENSOR_START"), 10, 64)
		for time.Now().UnixNano() < start {
		}
		t, err := Create[int64](name, []int{256, 256})
		if err == nil {
			t.Set(int64(os.Getpid()), 255, 255)
			fmt.Println("won")
			t.Close()
			return nil
		}
		if !errors.Is(err, ErrExist) {
			return fmt.Errorf("Create: %v", err)
		}
		// A loser must find a complete segment under the name.
		a, err := Attach[int64](name)
		if err != nil {
			return fmt.Errorf("loser attach: %v", err)
		}
		defer a.Close()
		if sh := a.Shape(); len(sh) != 2 || sh[0] != 256 || sh[1] != 256 {
			return fmt.Errorf("loser sees shape %v", sh)
		}
		fmt.Println("lost")
		return nil
	case "attach-perm":
		// Run as another user: read-write attach of a 0644 segment is
		// refused with a hint, read-only attach works.
		_, err := Attach[float64](name)
		if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "ReadOnly()") {
			return fmt.Errorf("read-write attach as uid %d: %v, want permission denied with a hint", os.Getuid(), err)
		}
		r, err := Attach[float64](name, ReadOnly())
		if err != nil {
			return fmt.Errorf("read-only attach as uid %d: %v", os.Getuid(), err)
		}
		defer r.Close()
		if err := Delete(name); err == nil {
			return fmt.Errorf("uid %d deleted a segment in sticky /dev/shm it does not own", os.Getuid())
		}
		fmt.Println(err)
		return nil
	case "create-loop":
		// Create segments under numbered names until killed; each is big
		// enough that a kill often lands inside Create.
		for i := 0; ; i++ {
			n := fmt.Sprintf("%s-%d", name, i)
			var opts []Option
			if i%2 == 1 {
				opts = append(opts, SharedArrayLayout())
			}
			t, err := Create[float32](n, []int{2048, 2048 + i%7}, opts...)
			if err != nil {
				return err
			}
			t.Close()
			fmt.Println(n)
		}
	}
	if f, ok := childRoles[role]; ok {
		return f(name)
	}
	return fmt.Errorf("unknown role %q", role)
}

// childRoles holds the roles that other test files define.
var childRoles = map[string]func(name string) error{}

// child returns a command that runs this test binary in the given role.
func child(role, name string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"SHMTENSOR_CHILD=" + role, "SHMTENSOR_NAME=" + name}, env...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

// startChild starts cmd, a child process, with its standard output piped
// and returns a reader of that output and stop, which kills the child and
// waits for it; stop runs when the test ends if not called before.
func startChild(t testing.TB, cmd *exec.Cmd) (*bufio.Reader, func()) {
	t.Helper()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() { cmd.Process.Kill(); cmd.Wait() })
	t.Cleanup(stop)
	return bufio.NewReader(out), stop
}

// killMidway starts cmd, waits for its first line of output (it has begun
// its work), lets it run for a random time below limit, kills it with
// SIGKILL and returns once it has exited.
func killMidway(t *testing.T, cmd *exec.Cmd, rng *rand.Rand, limit time.Duration) {
	t.Helper()
	out, stop := startChild(t, cmd)
	out.ReadString('\n')
	time.Sleep(time.Duration(rng.IntN(int(limit/time.Microsecond))) * time.Microsecond)
	stop()
}

func TestProcessesShareMemory(t *testing.T) {
	for _, base := range []string{"shm", "file"} {
		t.Run(base, func(t *testing.T) {
			name := uniqueName(t)
			if base == "file" {
				name = tempFileName(t, "shared.npy")
			}
			a, err := Create[float64](name, []int{3, 5})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			a.Set(12.5, 1, 2)
			out, err := child("attach-write", name).Output()
			if err != nil {
				t.Fatalf("child: %v", err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
			if pid == 0 || pid == os.Getpid() {
				t.Fatalf("child printed %q", out)
			}
			for i := range 3 {
				for j := range 5 {
					if got, want := a.At(i, j), float64(pid+i*5+j); got != want {
						t.Fatalf("parent sees %v at (%d,%d), want %v written by pid %d", got, i, j, want, pid)
					}
				}
			}
		})
	}
}

func TestCreateRace16Processes(t *testing.T) {
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	for round := range rounds {
		name := uniqueName(t)
		start := time.Now().Add(300 * time.Millisecond).UnixNano()
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			won, lost int
			failures  []string
		)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := child("race-create", name, fmt.Sprintf("SHMTENSOR_START=%d", start)).Output()
				mu.Lock()
				defer mu.Unlock()
				switch s := strings.TrimSpace(string(out)); {
				case err != nil:
					failures = append(failures, fmt.Sprintf("%v %q", err, s))
				case s == "won":
					won++
				case s == "lost":
					lost++
				default:
					failures = append(failures, s)
				}
			}()
		}
		wg.Wait()
		if len(failures) > 0 || won != 1 || lost != 15 {
			t.Fatalf("round %d: %d won, %d lost, failures %v", round, won, lost, failures)
		}
		if err := Delete(name); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCreatorKilledLeavesNothingBroken(t *testing.T) {
	kills := 8
	if testing.Short() {
		kills = 3
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for k := range kills {
		prefix := uniqueName(t)
		t.Cleanup(func() { removeByPrefix(prefix) })
		// Let it create a few, then kill it at a random moment.
		killMidway(t, child("create-loop", prefix), rng, 20*time.Millisecond)
		matches, _ := filepath.Glob(filepath.Join("/dev/shm", prefix+"*"))
		if len(matches) == 0 {
			t.Fatalf("kill %d: the child created nothing", k)
		}
		for _, m := range matches {
			base := filepath.Base(m)
			// Every name present holds a complete, attachable segment.
			a, err := Attach[float32](base)
			if err != nil {
				t.Fatalf("kill %d: %s is broken: %v", k, base, err)
			}
			a.Close()
			if err := Delete(base); err != nil {
				t.Fatal(err)
			}
		}
		if tmp, _ := filepath.Glob(filepath.Join("/dev/shm", tempPrefix+prefix+"*")); len(tmp) > 0 {
			t.Fatalf("kill %d left temporary names %v", k, tmp)
		}
	}
}

// TestPermissionDenied runs a child as another user (needs root, which CI
// has) against a 0644 segment owned by root.
func TestPermissionDenied(t *testing.T) {
	needRoot(t, "run a child as another user")
	name := uniqueName(t)
	a, err := Create[float64](name, []int{4}, Mode(0o644))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	out, err := runAsNobody(t, nobodyExe(t), "attach-perm", name)
	if err != nil {
		t.Fatalf("child as nobody: %v\n%s", err, out)
	}
	if _, err := Stat(name); err != nil {
		t.Fatalf("segment gone after the child's refused delete: %v", err)
	}
}

// needRoot skips a test that needs root, failing it under CI.
func needRoot(t *testing.T, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI runs as root; %s", why)
		}
		t.Skipf("needs root: %s", why)
	}
}

// nobodyExe returns a copy of the test binary that uid 65534 can execute:
// the original lives in a directory only root may enter.
func nobodyExe(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "shmtensor-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	exe := filepath.Join(dir, "child.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

// runAsNobody runs exe (from nobodyExe) as uid 65534 in role.
func runAsNobody(t *testing.T, exe, role, name string) ([]byte, error) {
	t.Helper()
	cmd := child(role, name)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	cmd.Path, cmd.Args[0] = exe, exe
	cmd.Dir = "/"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%v: %s", err, stderr.Bytes())
	}
	return out, nil
}

func removeByPrefix(prefix string) {
	matches, _ := filepath.Glob(filepath.Join("/dev/shm", prefix+"*"))
	for _, m := range matches {
		os.Remove(m)
	}
}
