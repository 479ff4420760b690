//go:build linux

package shmtensor

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/numpytest"
)

// lifecycleRounds sets how many rounds the multi-process lifecycle tests
// run: go test -run AttachOrCreate -args -lifecycle.rounds=500.
var lifecycleRounds = flag.Int("lifecycle.rounds", 20, "rounds of the multi-process AttachOrCreate test")

// Versioned tensors: element j of version v holds v*versionStep+j, and the
// last element the sum of the others, so a reader can tell a complete
// version from a mix or a partial fill.
const versionStep = 1_000_003

func fillVersion(d []int64, v int64, pause func(j int)) {
	var sum int64
	for j := range d[:len(d)-1] {
		d[j] = v*versionStep + int64(j)
		sum += d[j]
		if pause != nil {
			pause(j)
		}
	}
	d[len(d)-1] = sum
}

// checkVersion returns the version d holds, or an error if it holds no
// complete version.
func checkVersion(d []int64) (int64, error) {
	v := d[0] / versionStep
	if v <= 0 {
		return 0, fmt.Errorf("element 0 is %d: no version", d[0])
	}
	var sum int64
	for j, x := range d[:len(d)-1] {
		if x != v*versionStep+int64(j) {
			return 0, fmt.Errorf("version %d: element %d is %d, want %d", v, j, x, v*versionStep+int64(j))
		}
		sum += x
	}
	if d[len(d)-1] != sum {
		return 0, fmt.Errorf("version %d: checksum %d, want %d", v, d[len(d)-1], sum)
	}
	return v, nil
}

// versionPy is the numpy version of checkVersion, as a reader loop: it
// loads argv[1] with np.load(mmap_mode="r") until it sees version argv[2],
// printing "ready" after its first complete version and the versions seen
// at the end.
const versionPy = `
import sys, numpy as np
path, last = sys.argv[1], int(sys.argv[2])
step = 1000003
seen = set()
while True:
    try:
        a = np.load(path, mmap_mode="r")
    except FileNotFoundError:
        continue
    v = int(a[0]) // step
    want = v * step + np.arange(a.size - 1, dtype=np.int64)
    if v <= 0 or not np.array_equal(a[:-1], want) or int(a[-1]) != int(a[:-1].sum()):
        print("bad version", v, file=sys.stderr)
        sys.exit(1)
    if not seen:
        print("ready", flush=True)
    seen.add(v)
    del a
    if v == last:
        break
print(" ".join(map(str, sorted(seen))), flush=True)
`

// versionLoop creates version 1, 2, ... of an unpublished tensor under
// name(i), fills it slowly, makes it visible with expose and prints i,
// until killed or an error.
func versionLoop(name func(i int) string, expose func(*Segment) error) error {
	for i := 1; ; i++ {
		t, err := Create[int64](name(i), []int{1 << 16}, Unpublished())
		if err != nil {
			return err
		}
		fillVersion(t.Data(), int64(i), func(j int) {
			if j%8192 == 0 {
				time.Sleep(50 * time.Microsecond)
			}
		})
		if err := expose(t.Segment()); err != nil {
			return err
		}
		t.Close()
		fmt.Println(i)
	}
}

func init() {
	for role, f := range lifecycleRoles {
		childRoles[role] = f
	}
}

var lifecycleRoles = map[string]func(name string) error{
	// Publish versioned tensors under numbered names, filling slowly,
	// until killed.
	"publish-loop": func(name string) error {
		return versionLoop(func(i int) string { return fmt.Sprintf("%s-%d", name, i) }, (*Segment).Publish)
	},
	// Replace one name with new versions, filling slowly, until killed.
	"replace-loop": func(name string) error {
		return versionLoop(func(int) string { return name }, (*Segment).Replace)
	},
	// AttachOrCreate at SHMTENSOR_START; init logs "init PID" to
	// SHMTENSOR_LOG and, if it is the first init logged and
	// SHMTENSOR_SLOW_FIRST is set, sleeps to be killed.
	"attach-or-create": func(name string) error {
		start, _ := strconv.ParseInt(os.Getenv("SHMTENSOR_START"), 10, 64)
		for time.Now().UnixNano() < start {
		}
		logPath := os.Getenv("SHMTENSOR_LOG")
		init := func(t *Tensor[int64]) error {
			f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err != nil {
				return err
			}
			fmt.Fprintf(f, "init %d\n", os.Getpid())
			f.Close()
			log, _ := os.ReadFile(logPath)
			first := strings.Count(string(log), "init") == 1
			fillVersion(t.Data(), int64(os.Getpid()), func(j int) {
				if first && os.Getenv("SHMTENSOR_SLOW_FIRST") != "" && j == 100 {
					time.Sleep(time.Minute) // killed here by the test
				}
			})
			return nil
		}
		t, created, err := AttachOrCreate(name, []int{4096}, init)
		if err != nil {
			return err
		}
		defer t.Close()
		if _, err := checkVersion(t.Data()); err != nil {
			return fmt.Errorf("created %v: %v", created, err)
		}
		fmt.Println(map[bool]string{true: "created", false: "attached"}[created])
		return nil
	},
	// Map the name read-only and print what Mappers sees.
	"mappers": func(name string) error {
		t, err := Attach[float32](name, ReadOnly())
		if err != nil {
			return err
		}
		defer t.Close()
		pids, err := Mappers(name)
		if err != nil {
			return err
		}
		fmt.Println(pids)
		return nil
	},
	// Attach the name read-only until the version in SHMTENSOR_LAST is
	// seen, checking every version; print "ready" after the first one and
	// the versions seen at the end.
	"version-reader": func(name string) error {
		last, _ := strconv.ParseInt(os.Getenv("SHMTENSOR_LAST"), 10, 64)
		seen := map[int64]bool{}
		for {
			t, err := Attach[int64](name, ReadOnly())
			if err != nil {
				return err
			}
			v, err := checkVersion(t.Data())
			t.Close()
			if err != nil {
				return err
			}
			if len(seen) == 0 {
				fmt.Println("ready")
			}
			seen[v] = true
			if v == last {
				break
			}
		}
		var vs []string
		for v := range seen {
			vs = append(vs, strconv.FormatInt(v, 10))
		}
		fmt.Println(strings.Join(vs, " "))
		return nil
	},
}

// TestPublishKilledNeverExposes kills a producer at random moments while
// it fills unpublished tensors: every name present holds a complete
// version, and nothing else is left behind.
func TestPublishKilledNeverExposes(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for k := range 6 {
		prefix := uniqueName(t)
		t.Cleanup(func() { removeByPrefix(prefix) })
		killMidway(t, child("publish-loop", prefix), rng, 30*time.Millisecond)
		matches, _ := filepath.Glob(filepath.Join("/dev/shm", prefix+"-*"))
		if len(matches) == 0 {
			t.Fatalf("kill %d: nothing published", k)
		}
		for _, m := range matches {
			a, err := Attach[int64](filepath.Base(m), ReadOnly())
			if err != nil {
				t.Fatalf("kill %d: %s: %v", k, m, err)
			}
			v, err := checkVersion(a.Data())
			a.Close()
			if err != nil || !strings.HasSuffix(m, fmt.Sprintf("-%d", v)) {
				t.Fatalf("kill %d: %s holds version %d: %v", k, m, v, err)
			}
		}
		if tmp, _ := filepath.Glob(filepath.Join("/dev/shm", ".shmtensor-*"+prefix+"*")); len(tmp) > 0 {
			t.Fatalf("kill %d left %v", k, tmp)
		}
	}
}

// TestReplaceKilled kills a process replacing one name over and over: the
// name always holds a complete version.
func TestReplaceKilled(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	name := uniqueName(t)
	t.Cleanup(func() { removeByPrefix(tempPrefix + name) })
	for k := range 6 {
		killMidway(t, child("replace-loop", name), rng, 30*time.Millisecond)
		a, err := Attach[int64](name, ReadOnly())
		if err != nil {
			t.Fatalf("kill %d: %v", k, err)
		}
		if _, err := checkVersion(a.Data()); err != nil {
			t.Fatalf("kill %d: %v", k, err)
		}
		a.Close()
	}
}

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

// TestReplaceUnderReaders: 6 Go and 2 numpy processes attach the name in a
// loop while it is replaced by 40 versions; every one of them sees only
// complete versions, and each sees the first and the last.
func TestReplaceUnderReaders(t *testing.T) {
	const last = 40
	name := uniqueName(t)
	py := needNumpy(t)
	script := filepath.Join(t.TempDir(), "reader.py")
	if err := os.WriteFile(script, []byte(versionPy), 0o600); err != nil {
		t.Fatal(err)
	}
	publish := func(v int64) {
		t.Helper()
		a, err := Create[int64](name, []int{1 << 17}, Unpublished())
		if err != nil {
			t.Fatal(err)
		}
		fillVersion(a.Data(), v, nil)
		if err := a.Segment().Replace(); err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
	publish(1)
	type reader struct {
		cmd *exec.Cmd
		out *bufio.Scanner
	}
	var readers []reader
	for i := range 8 {
		var cmd *exec.Cmd
		if i < 6 {
			cmd = child("version-reader", name, fmt.Sprintf("SHMTENSOR_LAST=%d", last))
		} else {
			cmd = exec.Command(py, script, "/dev/shm/"+name, strconv.Itoa(last))
			cmd.Stderr = os.Stderr
		}
		stdout, _ := startChild(t, cmd)
		readers = append(readers, reader{cmd, bufio.NewScanner(stdout)})
	}
	for i, r := range readers {
		if !r.out.Scan() || r.out.Text() != "ready" {
			t.Fatalf("reader %d did not start: %q", i, r.out.Text())
		}
	}
	for v := int64(2); v <= last; v++ {
		publish(v)
	}
	for i, r := range readers {
		r.out.Scan()
		seen := strings.Fields(r.out.Text())
		if err := r.cmd.Wait(); err != nil {
			t.Fatalf("reader %d: %v", i, err)
		}
		if !slices.Contains(seen, "1") || !slices.Contains(seen, strconv.Itoa(last)) {
			t.Fatalf("reader %d saw versions %v", i, seen)
		}
		t.Logf("reader %d saw %d versions", i, len(seen))
	}
	if got := leftovers(t, name); len(got) > 0 {
		t.Fatalf("left %v", got)
	}
}

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

// BenchmarkWaitLatency measures how long after Publish or Replace returns
// a goroutine blocked in Wait or WaitReplaced wakes with the new segment
// ("wake-ns"), against the same WaitReplaced polling with backoff
// ("replace-poll"). ns/op includes making the segment and a 200 µs pause
// that lets the waiter block.
func BenchmarkWaitLatency(b *testing.B) {
	for _, mode := range []string{"publish", "replace", "replace-poll"} {
		b.Run(mode, func(b *testing.B) {
			base := uniqueName(b)
			name := func(i int) string {
				if mode == "publish" {
					return fmt.Sprintf("%s-%d", base, i)
				}
				return base
			}
			b.Cleanup(func() { removeByPrefix(base) })
			seg, err := Create[int64](base, []int{512})
			if err != nil {
				b.Fatal(err)
			}
			info, _ := Stat(base)
			seg.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			woke := make(chan time.Time)
			armed := make(chan struct{}, 1)
			go func() {
				n, _ := parseName(base)
				for i, last := 1, info; ; i++ {
					armed <- struct{}{}
					var err error
					switch mode {
					case "publish":
						_, err = Wait(ctx, name(i))
					case "replace":
						last, err = WaitReplaced(ctx, base, last)
					default:
						last, err = pollWait(ctx, func() (Info, bool, error) {
							in, err := statName(n)
							return in, err == nil && in.ID != last.ID, nil
						})
					}
					if err != nil {
						return
					}
					woke <- time.Now()
				}
			}()
			var total time.Duration
			i := 0
			for b.Loop() {
				i++
				<-armed
				time.Sleep(200 * time.Microsecond) // let it block
				a, err := Create[int64](name(i), []int{512}, Unpublished())
				if err != nil {
					b.Fatal(err)
				}
				t0 := time.Now()
				if mode == "publish" {
					err = a.Segment().Publish()
				} else {
					err = a.Segment().Replace()
				}
				if err != nil {
					b.Fatal(err)
				}
				total += (<-woke).Sub(t0)
				a.Close()
				if mode == "publish" {
					Delete(name(i))
				}
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "wake-ns")
		})
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
