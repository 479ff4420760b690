//go:build torture && linux

package shmtensor

// Part of the adversarial campaign (torture_test.go).
// The campaign's readers of files that change under them: truncated, or
// with their header rewritten.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
)

func init() {
	childRoles["torture-reader"] = tortureReader
	childRoles["torture-rewriter"] = tortureRewriter
}

// tortureReader attaches the segment, says so, and reads it until it
// faults. With SHMTENSOR_PANIC_ON_FAULT it recovers the fault as a panic
// (debug.SetPanicOnFault) and prints "recovered".
func tortureReader(name string) error {
	a, err := Attach[uint8](name, ReadOnly())
	if err != nil {
		return err
	}
	if os.Getenv("SHMTENSOR_PANIC_ON_FAULT") != "" {
		debug.SetPanicOnFault(true)
		defer func() {
			if r := recover(); r != nil {
				fmt.Println("recovered:", r)
				os.Exit(0)
			}
		}()
	}
	fmt.Println("attached")
	data := a.Data()
	var sum byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		for i := 0; i < len(data); i += 4096 {
			sum += data[i]
		}
	}
	fmt.Println("no fault", sum)
	return nil
}

// TestTortureTruncateUnderReader: the owner truncating a segment under a
// reader kills the reader with SIGBUS (the kernel's rule for MAP_SHARED;
// the package cannot prevent it, which is why Attach refuses segments of
// other owners), unless the reader turned faults into panics with
// debug.SetPanicOnFault.
func TestTortureTruncateUnderReader(t *testing.T) {
	rounds := scale(20, 2)
	var sigbus, recovered int
	for i := range rounds {
		name := uniqueName(t)
		a, err := Create[uint8](name, []int{4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		var env []string
		if i%2 == 1 {
			env = append(env, "SHMTENSOR_PANIC_ON_FAULT=1")
		}
		cmd := child("torture-reader", name, env...)
		cmd.Stderr = io.Discard
		stdout, _ := startChild(t, cmd)
		sc := bufio.NewScanner(stdout)
		sc.Scan()
		os.Truncate(filepath.Join("/dev/shm", name), 4096)
		var last string
		for sc.Scan() {
			last = sc.Text()
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		switch {
		case strings.HasPrefix(last, "recovered"):
			recovered++
		case errors.As(err, &ee) && strings.Contains(ee.String(), "exit status 2"):
			sigbus++ // the Go runtime reports "unexpected fault address" and exits 2
		case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGBUS:
			sigbus++
		default:
			t.Errorf("round %d: reader ended with %v, last line %q", i, err, last)
		}
	}
	result(t, "rounds", rounds, "reader_killed_by_SIGBUS", sigbus, "reader_recovered_with_SetPanicOnFault", recovered)
}

// tortureRewriter rewrites the segment's header in place, alternating two
// valid headers of the same size, until killed: a foreign writer that does
// not use Create.
func tortureRewriter(name string) error {
	h1, _ := testNPYHeader(Float64, []int{2, 8}, false)
	h2, _ := testNPYHeader(Float64, []int{16}, true)
	f, err := os.OpenFile(filepath.Join("/dev/shm", name), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	for {
		f.WriteAt(h1, 0)
		f.WriteAt(h2, 0)
	}
}

// TestTortureTornHeader: reads racing a foreign in-place rewrite of the
// header can see a mix of two valid headers (a documented limit: Create
// never rewrites a header, so only foreign writers cause it). Counted, not
// asserted.
func TestTortureTornHeader(t *testing.T) {
	reads := scale(60000, 2000)
	name := uniqueName(t)
	a, err := Create[float64](name, []int{2, 8})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	out, stop := startChild(t, child("torture-rewriter", name))
	defer stop()
	out.ReadString('\n')
	outcomes := map[string]int{}
	for range reads {
		in, err := Stat(name)
		checkContract(t, "stat", err)
		switch {
		case err != nil:
			outcomes["refused"]++
		case !in.Fortran && len(in.Shape) == 2 && in.Shape[0] == 2 && in.Shape[1] == 8:
			outcomes["first"]++
		case in.Fortran && len(in.Shape) == 1 && in.Shape[0] == 16:
			outcomes["second"]++
		default:
			outcomes["torn"]++
		}
	}
	result(t, "reads", reads, "first_header", outcomes["first"], "second_header", outcomes["second"],
		"torn_mix", outcomes["torn"], "refused", outcomes["refused"])
}
