//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
)

// waitFile waits for path to exist.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for i := 0; ; i++ {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if i == 1000 {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestLockRunsCommand(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create", name, "int32", "4", "8")
	want(t, 7, "lock", name, "--", "sh", "-c", "exit 7")
	r := want(t, 0, "lock", "--shared", "--rows", "1:3", name, "--", "echo", "hello")
	contains(t, "stdout", r.stdout, "hello")
	want(t, 127, "lock", name, "--", "/no/such/command")
	want(t, 128+9, "lock", name, "--", "sh", "-c", "kill -9 $$")
	for _, bad := range [][]string{
		{"lock", name},
		{"lock", name, "--"},
		{"lock", "--rows", "3:9", name, "--", "true"},
		{"lock", "--rows", "x", name, "--", "true"},
		{"lock", "--timeout", "-1s", name, "--", "true"},
	} {
		want(t, 2, bad...)
	}
	r = want(t, 1, "lock", name+"-missing", "--", "true")
	contains(t, "stderr", r.stderr, "does not exist")
}

// createSegment creates a float64 tensor of 4×8 with the command under a
// unique name and opens it; the segment is closed when the test ends.
func createSegment(t *testing.T) (string, *shmtensor.Segment) {
	t.Helper()
	name := uniqueName(t)
	want(t, 0, "create", name, "float64", "4", "8")
	seg, err := shmtensor.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	return name, seg
}

// TestLockHeldWhileCommandRuns: the lock excludes a Go process while CMD
// runs, in each of its forms, and is free once CMD has ended.
func TestLockHeldWhileCommandRuns(t *testing.T) {
	name, seg := createSegment(t)
	ctx := context.Background()
	refused := func(what string, f func(context.Context) (func(), error)) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if u, err := f(c); err == nil {
			u()
			t.Errorf("%s: granted while shmtensor lock runs its command", what)
		}
	}
	granted := func(what string, f func(context.Context) (func(), error)) {
		t.Helper()
		u, err := f(ctx)
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		u()
	}
	rows := func(lock func(context.Context, int, int) (func(), error), a, b int) func(context.Context) (func(), error) {
		return func(c context.Context) (func(), error) { return lock(c, a, b) }
	}
	for _, tc := range []struct {
		opts    []string
		check   func()
		comment string
	}{
		{nil, func() {
			refused("RLock", seg.RLock)
		}, "exclusive"},
		{[]string{"--shared"}, func() {
			granted("RLock", seg.RLock)
			refused("LockRows(0, 1)", rows(seg.LockRows, 0, 1))
		}, "shared"},
		{[]string{"--rows", "1:3"}, func() {
			granted("LockRows(0, 1)", rows(seg.LockRows, 0, 1))
			granted("LockRows(3, 4)", rows(seg.LockRows, 3, 4))
			refused("RLockRows(2, 3)", rows(seg.RLockRows, 2, 3))
		}, "rows"},
	} {
		dir := t.TempDir()
		started, finish := filepath.Join(dir, "started"), filepath.Join(dir, "finish")
		args := append(append([]string{"lock"}, tc.opts...), name, "--", "sh", "-c",
			`touch "$1"; while [ ! -e "$2" ]; do sleep 0.01; done`, "sh", started, finish)
		cmd := exec.Command(exe, args...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFile(t, started)
		tc.check()
		os.WriteFile(finish, nil, 0o600)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%s: %v", tc.comment, err)
		}
		granted(tc.comment+": Lock after the command ended", seg.Lock)
	}
}

func TestLockTimeout(t *testing.T) {
	name, seg := createSegment(t)
	unlock, err := seg.LockRows(context.Background(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	r := want(t, 1, "lock", "--timeout", "50ms", name, "--", "true")
	contains(t, "stderr", r.stderr, "still locked after 50ms")
	for _, opts := range [][]string{nil, {"--shared"}, {"--rows", "0:2"}} {
		args := append(append([]string{"lock", "--timeout", "0"}, opts...), name, "--", "true")
		r = want(t, 1, args...)
		contains(t, "stderr", r.stderr, "shmtensor: lock: shm://"+name+": locked (by another process or lock command; --timeout 0 gives up at once)")
		if strings.Contains(r.stderr, "trylock") {
			t.Errorf("the message names the package's TryLock:\n%s", r.stderr)
		}
	}
	want(t, 0, "lock", "--timeout", "0", "--rows", "1:", name, "--", "true")
	// A waiting lock command gets the lock once it is freed.
	_, wait := startWaitingLock(t, name)
	unlock()
	if stderr, err := wait(); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, stderr)
	}
	// Ctrl-C while waiting: status 130.
	unlock, err = seg.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	cmd, wait := startWaitingLock(t, name)
	cmd.Process.Signal(os.Interrupt)
	var ee *exec.ExitError
	stderr, err := wait()
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("interrupted while waiting: %v, want exit status 130\nstderr:\n%s", err, stderr)
	}
	contains(t, "stderr", stderr, "interrupted while waiting")
}

// startWaitingLock starts "lock NAME -- true" while NAME is locked and
// returns once the command says that it waits, which it does with its
// signal handlers in place. wait waits for the command to end and returns
// all it wrote to standard error and its error.
func startWaitingLock(t *testing.T, name string) (cmd *exec.Cmd, wait func() (string, error)) {
	t.Helper()
	cmd = exec.Command(exe, "lock", name, "--", "true")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		t.Fatal(err)
	}
	var stderr strings.Builder // written by the reader until done is closed
	waiting, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		said := false
		for sc.Scan() {
			fmt.Fprintln(&stderr, sc.Text())
			if !said && strings.Contains(sc.Text(), "waiting for the lock of") {
				said = true
				close(waiting)
			}
		}
	}()
	wait = func() (string, error) {
		err := cmd.Wait()
		<-done
		return stderr.String(), err
	}
	select {
	case <-waiting:
	case <-done:
		out, err := wait()
		t.Fatalf("lock ended without saying it waits: %v\nstderr:\n%s", err, out)
	}
	return cmd, wait
}

// TestLockForwardsTerm: SIGTERM sent to lock reaches its command, whose
// status lock then exits with, and the lock is released.
func TestLockForwardsTerm(t *testing.T) {
	name := uniqueName(t)
	want(t, 0, "create", name, "int64", "2")
	started := filepath.Join(t.TempDir(), "started")
	cmd := exec.Command(exe, "lock", name, "--", "sh", "-c",
		`trap "exit 42" TERM; touch "$1"; while :; do sleep 0.01; done`, "sh", started)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFile(t, started)
	cmd.Process.Signal(syscall.SIGTERM)
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 42 {
		t.Fatalf("lock after SIGTERM: %v, want the command's exit status 42", err)
	}
	seg, err := shmtensor.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	unlock, err := seg.TryLock()
	if err != nil {
		t.Fatalf("lock still held after lock exited: %v", err)
	}
	unlock()
}

// TestLockCommandOptionHint: an option of the command run, given without
// "--", is refused with the command line that would work.
func TestLockCommandOptionHint(t *testing.T) {
	r := want(t, 2, "lock", "weights", "ls", "-d", "/tmp")
	contains(t, "stderr", r.stderr, "flag provided but not defined: -d",
		`to pass -d to ls, put "--" before the command: shmtensor lock weights -- ls -d /tmp`)
	r = want(t, 2, "lock", "--bogus", "weights", "ls")
	if strings.Contains(r.stderr, `put "--"`) {
		t.Errorf("an unknown option before NAME and CMD got the hint:\n%s", r.stderr)
	}
}
