//go:build linux

package shmtensor_test

// Locks across processes: handed over when the holder unlocks or is
// killed, and released by Close.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor"
)

func init() {
	shmtensor.ChildRoles["lock-hold"] = childLockHold
	shmtensor.ChildRoles["lock-wait"] = childLockWait
	shmtensor.ChildRoles["lock-close"] = childLockClose
}

// childLockHold takes the lock, says so, and sleeps until killed.
func childLockHold(name string) error {
	s, err := shmtensor.Open(name)
	if err != nil {
		return err
	}
	unlock, err := s.Lock(context.Background())
	if err != nil {
		return err
	}
	fmt.Println("locked")
	// A line on standard input releases the lock, and the time it was
	// released is printed; otherwise the holder sleeps until killed.
	if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err == nil {
		at := time.Now().UnixNano()
		unlock()
		fmt.Println(at)
	}
	for {
		time.Sleep(time.Hour)
	}
}

// childLockWait checks the lock is held, says so, then waits for it
// (sleeping in the kernel with MODE=blocking, polling with MODE=polling)
// and prints when it got it, in nanoseconds since the epoch.
func childLockWait(name string) error {
	s, err := shmtensor.Open(name)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.TryLock(); !errors.Is(err, shmtensor.ErrLocked) {
		return fmt.Errorf("TryLock before the holder died: %v, want ErrLocked", err)
	}
	fmt.Println("busy")
	ctx := context.Background()
	if os.Getenv("MODE") == "polling" {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
	}
	unlock, err := s.Lock(ctx)
	if err != nil {
		return err
	}
	fmt.Println(time.Now().UnixNano())
	unlock()
	return nil
}

// TestProcessLockHolderKilled: the kernel releases the lock of a holder
// killed with SIGKILL, and the processes waiting for it get it in turn.
// How soon the first does is logged, for the waiting modes: sleeping in the
// kernel (a context that is never done) and polling (a cancellable one);
// and, for comparison, how soon after a living holder's unlock.
func TestProcessLockHolderKilled(t *testing.T) {
	name := shmtensor.UniqueName(t)
	createTensor[float64](t, name, 64)
	reps := 3
	if testing.Short() {
		reps = 1
	}
	for _, kill := range []bool{true, false} {
		for _, mode := range []string{"blocking", "polling"} {
			var delays []time.Duration
			for range reps {
				delays = append(delays, handOver(t, name, mode, kill))
			}
			slices.Sort(delays)
			how := "unlock by the holder"
			if kill {
				how = "SIGKILL of the holder"
			}
			t.Logf("%s waiters: the first got the lock %v after %s (min of %d; all %v)", mode, delays[0], how, reps, delays)
		}
	}
}

// handOver starts a holder and three waiters in other processes, kills the
// holder or has it unlock, checks that every waiter gets the lock after
// that, and returns how soon the first did.
func handOver(t *testing.T, name, mode string, kill bool) time.Duration {
	holder := shmtensor.ChildCommand("lock-hold", name)
	in, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	holderOut, stop := shmtensor.StartChild(t, holder)
	defer stop()
	if line, _ := holderOut.ReadString('\n'); line != "locked\n" {
		t.Fatalf("holder said %q", line)
	}
	const waiters = 3
	type result struct {
		at  int64
		err error
	}
	results := make(chan result, waiters)
	busy := make(chan bool, waiters)
	for range waiters {
		w := shmtensor.ChildCommand("lock-wait", name, "MODE="+mode)
		wout, err := w.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			r := bufio.NewReader(wout)
			line, _ := r.ReadString('\n')
			busy <- line == "busy\n"
			line, _ = r.ReadString('\n')
			at, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
			if werr := w.Wait(); werr != nil {
				err = werr
			}
			results <- result{at, err}
		}()
	}
	for range waiters {
		if !<-busy {
			t.Fatal("a waiter found the lock free while the holder held it")
		}
	}
	if mode == "blocking" {
		shmtensor.WaitBlockedLockers(t, "/dev/shm/"+name, waiters)
	} else {
		// Polling waiters cannot be seen from here. Every check holds
		// however far they are; only the delay logged depends on it.
		time.Sleep(20 * time.Millisecond)
	}
	var released int64
	if kill {
		released = time.Now().UnixNano()
		holder.Process.Signal(syscall.SIGKILL)
	} else {
		in.Write([]byte("unlock\n"))
		line, _ := holderOut.ReadString('\n')
		if released, err = strconv.ParseInt(strings.TrimSpace(line), 10, 64); err != nil {
			t.Fatalf("holder said %q", line)
		}
	}
	first := int64(0)
	for range waiters {
		r := <-results
		if r.err != nil {
			t.Fatalf("waiter: %v", r.err)
		}
		if r.at < released {
			t.Fatalf("a waiter got the lock %v before the holder released it", time.Duration(released-r.at))
		}
		if first == 0 || r.at < first {
			first = r.at
		}
	}
	return time.Duration(first - released)
}

// childLockClose takes locks, closes the segment, says so, and stays alive
// until its standard input closes.
func childLockClose(name string) error {
	s, err := shmtensor.Open(name)
	if err != nil {
		return err
	}
	if _, err := s.Lock(context.Background()); err != nil {
		return err
	}
	s.Close()
	fmt.Println("closed")
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// TestProcessNoLockAfterClose: a process that closes a segment holds no
// lock on it any more, while it lives on.
func TestProcessNoLockAfterClose(t *testing.T) {
	name := shmtensor.UniqueName(t)
	x := createTensor[float64](t, name, 4)
	c := shmtensor.ChildCommand("lock-close", name)
	in, _ := c.StdinPipe()
	out, _ := shmtensor.StartChild(t, c)
	if line, _ := out.ReadString('\n'); line != "closed\n" {
		t.Fatalf("child said %q", line)
	}
	unlock, err := x.Segment().TryLock()
	if err != nil {
		t.Fatalf("lock of a process that closed the segment is still held: %v", err)
	}
	unlock()
	in.Close()
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
}
