//go:build linux

package shmtensor

// Publish and Replace across processes: producers killed midway never
// expose a partial version, and readers of the old one are unharmed.

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

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
