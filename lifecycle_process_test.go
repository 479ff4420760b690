//go:build linux

package shmtensor

// Helpers and child roles of the lifecycle tests across processes
// (lifecycle_*_process_test.go): versioned tensors and the roles that
// publish, replace, attach and read them.

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
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
