package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shmtensor/shmtensor"
)

var cmdLock = &Command{
	UsageLine: "lock [--shared] [--rows A:B] [--timeout D] [--any-owner] NAME -- CMD [ARG...]",
	Short:     "run a command while holding a segment's lock",
	Long: `
Lock takes the lock of the segment NAME, runs CMD with its arguments, and
releases the lock when CMD ends, like flock(1) does for files. The exit
status is CMD's (128+N if signal N killed it; 126 if CMD cannot be run, 127
if it is not found). The "--" before CMD keeps CMD's options from being
taken for lock's.

The lock is the one Segment.Lock takes in Go programs (and an fcntl open
file description lock over the same bytes in Python or C, on Linux), so
shell scripts, Go and Python processes exclude each other. The kernel
releases it when this process ends, however it ends. CMD does not inherit
it: if this process is killed, CMD runs on unlocked.

--shared takes a shared lock, held by any number of processes at once but
not together with an exclusive one; it needs only read permission.
--rows A:B locks rows A to B-1 of axis 0 (A: to the end, :B from 0), which
locks on other rows do not conflict with; on FreeBSD and macOS, and for
Fortran-order segments, it locks the whole segment.

If the lock is held, lock says on standard error that it waits for it.
Without --timeout it waits as long as it takes. --timeout D gives up after
D (such as 500ms or 2m) with exit status 1; --timeout 0 gives up at once if
the lock is held. Ctrl-C or SIGTERM while waiting exits with 130. While CMD
runs, SIGTERM and SIGHUP sent to this process are passed on to CMD, and
SIGINT and SIGQUIT (which a terminal sends to both) are left to CMD.

A segment owned by another user than you and root is refused, as by show
and export; --any-owner locks it anyway. For example:

	shmtensor lock --timeout 10s weights -- python3 update.py
`,
	MinArgs: 2,
	MaxArgs: manyArgs,
}

var (
	lockShared   = cmdLock.Flag.Bool("shared", false, "take a shared lock instead of an exclusive one")
	lockRows     = cmdLock.Flag.String("rows", "", "lock rows `A:B` of axis 0 only")
	lockTimeout  = cmdLock.Flag.Duration("timeout", 0, "give up after `D`; 0: at once if held (default: wait)")
	lockAnyOwner = cmdLock.Flag.Bool("any-owner", false, "lock a segment owned by another user")
)

func init() { cmdLock.Run = runLock }

func runLock(c *Command, args []string) error {
	var timeout *time.Duration
	c.Flag.Visit(func(f *flag.Flag) {
		if f.Name == "timeout" {
			timeout = lockTimeout
		}
	})
	var opts []shmtensor.Option
	if *lockShared {
		opts = append(opts, shmtensor.ReadOnly()) // a shared lock needs only read permission
	}
	if *lockAnyOwner {
		opts = append(opts, shmtensor.AnyOwner())
	}
	code, err := lockAndRun(args[0], opts, *lockShared, *lockRows, timeout, args[1:])
	var ue *lockUsageError
	switch {
	case errors.As(err, &ue):
		return usagef("%s", ue.msg)
	case err != nil:
		return err
	case code != 0:
		return exitStatus(code)
	}
	return nil
}

// lockUsageError is bad usage found by lockAndRun.
type lockUsageError struct{ msg string }

func (e *lockUsageError) Error() string { return e.msg }

// lockAndRun opens name with opts and takes its lock (a shared one, on rows
// when rows is not empty, waiting at most *timeout when timeout is not nil),
// runs argv and returns its exit status.
func lockAndRun(name string, opts []shmtensor.Option, shared bool, rows string, timeout *time.Duration, argv []string) (int, error) {
	if len(argv) == 0 {
		return 0, &lockUsageError{"missing CMD"}
	}
	if timeout != nil && *timeout < 0 {
		return 0, &lockUsageError{fmt.Sprintf("--timeout %v is negative", *timeout)}
	}
	seg, err := shmtensor.Open(name, opts...)
	if err != nil {
		return 0, err
	}
	defer seg.Close()
	start, stop := 0, 0
	if rows != "" {
		var n int
		if sh := seg.Shape(); len(sh) > 0 {
			n = sh[0]
		}
		if start, stop, err = parseRows(rows, n); err != nil {
			return 0, &lockUsageError{err.Error()}
		}
	}

	// Ctrl-C or SIGTERM while waiting gives up the wait.
	ctx, stopSignals := interruptContext()
	defer stopSignals()
	if timeout != nil && *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	// One attempt first; only if the lock is held does lock say that it
	// waits, and wait (or give up at once for --timeout 0).
	unlock, err := tryLock(seg, shared, rows != "", start, stop)
	if errors.Is(err, shmtensor.ErrLocked) && (timeout == nil || *timeout > 0) {
		// The signal handlers are in place (interruptContext above), so
		// whoever reads this line may interrupt the wait.
		fmt.Fprintf(os.Stderr, "shmtensor: lock: waiting for the lock of %s\n", seg.Name())
		unlock, err = takeLock(ctx, seg, shared, rows != "", start, stop)
	}
	switch {
	case err == nil:
	case errors.Is(err, shmtensor.ErrLocked):
		// --timeout 0: worded as the timeout's message, not as the
		// package's TryLock ("trylock shm://x: segment is locked").
		return 0, fmt.Errorf("%s: locked (by another process or lock command; --timeout 0 gives up at once)", seg.Name())
	case errors.Is(err, context.DeadlineExceeded):
		return 0, fmt.Errorf("%s: still locked after %v", seg.Name(), *timeout)
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(os.Stderr, "shmtensor: lock: interrupted while waiting for the lock of %s\n", seg.Name())
		return 130, nil
	default:
		return 0, err
	}
	defer unlock()
	return runLocked(argv)
}

// tryLock takes the lock the options ask for if it is free, else fails
// with ErrLocked.
func tryLock(seg *shmtensor.Segment, shared, rows bool, start, stop int) (func(), error) {
	switch {
	case rows && shared:
		return seg.TryRLockRows(start, stop)
	case rows:
		return seg.TryLockRows(start, stop)
	case shared:
		return seg.TryRLock()
	}
	return seg.TryLock()
}

// takeLock takes the lock the options ask for.
func takeLock(ctx context.Context, seg *shmtensor.Segment, shared, rows bool, start, stop int) (func(), error) {
	switch {
	case rows && shared:
		return seg.RLockRows(ctx, start, stop)
	case rows:
		return seg.LockRows(ctx, start, stop)
	case shared:
		return seg.RLock(ctx)
	}
	return seg.Lock(ctx)
}

// runLocked runs argv with this process's standard streams and returns its
// exit status, passing on termination signals.
func runLocked(argv []string) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, append(forwardedSignals, terminalSignals...)...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		code := 126
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code = 127
		}
		fmt.Fprintf(os.Stderr, "shmtensor: lock: %v\n", err)
		return code, nil
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				// A terminal sends SIGINT and SIGQUIT to CMD as well;
				// others are meant for CMD through this process.
				if slices.Contains(forwardedSignals, s) {
					cmd.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitCode(ee), nil
	}
	if err != nil {
		return 0, err
	}
	return 0, nil
}

// parseRows parses A:B, A: or :B for an axis of n rows.
func parseRows(s string, n int) (start, stop int, err error) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("--rows %q: want A:B, A: or :B", s)
	}
	start, stop = 0, n
	if a != "" {
		if start, err = strconv.Atoi(a); err != nil {
			return 0, 0, fmt.Errorf("--rows %q: %q is not a row number", s, a)
		}
	}
	if b != "" {
		if stop, err = strconv.Atoi(b); err != nil {
			return 0, 0, fmt.Errorf("--rows %q: %q is not a row number", s, b)
		}
	}
	if start < 0 || stop < start || stop > n {
		return 0, 0, fmt.Errorf("--rows %q: outside the %d rows of axis 0, or empty", s, n)
	}
	if start == stop {
		return 0, 0, fmt.Errorf("--rows %q is empty", s)
	}
	return start, stop, nil
}
