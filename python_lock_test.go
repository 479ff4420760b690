//go:build linux

package shmtensor

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pyLockScript takes part in the locking the way docs/coordination.md tells
// Python users to: fcntl with F_OFD_SETLK(W) over rows [start, stop) at
// 4096 + row * rowbytes. Only the standard library is needed.
const pyLockScript = `import fcntl, os, struct, sys, time

path, action = sys.argv[1], sys.argv[2]
start, stop, rowbytes = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
DATA = 4096  # where the data of a segment made by shmtensor starts

def lock(fd, cmd, kind, first, last):
    # struct flock: l_type, l_whence, l_start, l_len, l_pid (0 for OFD locks)
    fl = struct.pack("hhqqi", kind, os.SEEK_SET, DATA + first * rowbytes, (last - first) * rowbytes, 0)
    fcntl.fcntl(fd, cmd, fl)

fd = os.open(path, os.O_RDWR)
if action == "hold":
    lock(fd, fcntl.F_OFD_SETLKW, fcntl.F_WRLCK, start, stop)
    print("locked", flush=True)
    sys.stdin.readline()
    print(time.time_ns(), flush=True)
    lock(fd, fcntl.F_OFD_SETLK, fcntl.F_UNLCK, start, stop)
elif action == "wait":
    try:
        lock(fd, fcntl.F_OFD_SETLK, fcntl.F_WRLCK, start, stop)
        print("free", flush=True)
        sys.exit(1)
    except (BlockingIOError, PermissionError):
        print("busy", flush=True)
    # The row before the range Go holds is free.
    other = os.open(path, os.O_RDWR)
    lock(other, fcntl.F_OFD_SETLK, fcntl.F_WRLCK, start - 1, start)
    os.close(other)
    print("neighbour free", flush=True)
    lock(fd, fcntl.F_OFD_SETLKW, fcntl.F_WRLCK, start, stop)
    print(time.time_ns(), flush=True)
else:
    sys.exit("unknown action " + action)
`

// needPython3 returns /usr/bin/python3 if it has F_OFD_SETLKW (Python 3.9
// or later on Linux); it skips the test otherwise, failing it under CI.
func needPython3(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	out, err := exec.Command(py, "-c", "import fcntl; print(fcntl.F_OFD_SETLKW)").CombinedOutput()
	if err != nil {
		msg := "python3 with fcntl.F_OFD_SETLKW (3.9 or later) is needed: " + strings.TrimSpace(string(out)) + " " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// startPyLock runs the script with the given arguments and returns its
// standard input and a reader of its output lines.
func startPyLock(t *testing.T, py string, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "lock.py")
	if err := os.WriteFile(script, []byte(pyLockScript), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, append([]string{script}, args...)...)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := startChild(t, cmd)
	return cmd, in, out
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("python: %q, %v", line, err)
	}
	return strings.TrimSpace(line)
}

// TestPythonHoldsGoWaits: a Python process holds rows 1:3 with fcntl; Go
// is refused those rows, gets the others, and gets row 2 once Python lets
// go, not before.
func TestPythonHoldsGoWaits(t *testing.T) {
	py := needPython3(t)
	name := uniqueName(t)
	x, err := Create[float64](name, []int{5, 7}) // 56 bytes a row
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	s := x.Segment()
	cmd, in, out := startPyLock(t, py, "/dev/shm/"+name, "hold", "1", "3", "56")
	if got := readLine(t, out); got != "locked" {
		t.Fatalf("python: %q", got)
	}
	if _, err := s.TryLock(); !errors.Is(err, ErrLocked) {
		t.Fatalf("TryLock while Python holds rows 1:3: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	_, err = s.RLockRows(ctx, 2, 3)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RLockRows(2, 3) while Python holds rows 1:3: %v", err)
	}
	for _, r := range [][2]int{{0, 1}, {3, 5}} {
		u, err := s.LockRows(context.Background(), r[0], r[1])
		if err != nil {
			t.Fatalf("rows %v beside Python's: %v", r, err)
		}
		u()
	}
	got := make(chan int64)
	go func() {
		u, err := s.LockRows(context.Background(), 2, 3)
		if err != nil {
			t.Error(err)
		}
		got <- time.Now().UnixNano()
		u()
	}()
	waitBlockedLockers(t, "/dev/shm/"+name, 1) // Go's request sleeps in F_OFD_SETLKW
	in.Write([]byte("release\n"))
	released, err := strconv.ParseInt(readLine(t, out), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if at := <-got; at < released {
		t.Fatalf("Go got row 2 %v before Python released it", time.Duration(released-at))
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestGoHoldsPythonWaits: Go holds rows 1:3; a Python process is refused
// them, gets row 0, and gets rows 1:3 once Go unlocks, not before.
func TestGoHoldsPythonWaits(t *testing.T) {
	py := needPython3(t)
	name := uniqueName(t)
	x, err := Create[int32](name, []int{4, 10}) // 40 bytes a row
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	unlock, err := x.Segment().LockRows(context.Background(), 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	cmd, _, out := startPyLock(t, py, "/dev/shm/"+name, "wait", "1", "3", "40")
	for _, want := range []string{"busy", "neighbour free"} {
		if got := readLine(t, out); got != want {
			t.Fatalf("python said %q, want %q", got, want)
		}
	}
	waitBlockedLockers(t, "/dev/shm/"+name, 1) // Python's request sleeps in F_SETLKW
	released := time.Now().UnixNano()
	unlock()
	at, err := strconv.ParseInt(readLine(t, out), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if at < released {
		t.Fatalf("Python got the rows %v before Go released them", time.Duration(released-at))
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}
