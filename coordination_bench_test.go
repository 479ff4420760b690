//go:build linux

package shmtensor

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmtensor/shmtensor/internal/floor"
	"golang.org/x/sys/unix"
)

// The coordination benchmarks compare each primitive with what it is built
// on or what it replaces; run them together so the ratios come from one
// run:
//
//	go test -run '^$' -bench 'Lock|Atomic|RoundTrip' .

func init() {
	childRoles["pingpong"] = childPingPong
	childRoles["pipe-echo"] = childPipeEcho
}

func benchSegment(b *testing.B) *Segment {
	name := uniqueName(b)
	t, err := Create[int64](name, []int{64, 64})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { t.Close() })
	return t.Segment()
}

// BenchmarkLock: an uncontended lock and unlock, against the bare fcntl
// pair it is made of and against sync.Mutex.
func BenchmarkLock(b *testing.B) {
	b.Run("Segment.Lock", func(b *testing.B) {
		s := benchSegment(b)
		ctx := context.Background()
		for b.Loop() {
			u, err := s.Lock(ctx)
			if err != nil {
				b.Fatal(err)
			}
			u()
		}
	})
	b.Run("Segment.TryLock", func(b *testing.B) {
		s := benchSegment(b)
		for b.Loop() {
			u, err := s.TryLock()
			if err != nil {
				b.Fatal(err)
			}
			u()
		}
	})
	b.Run("Segment.RLockRows", func(b *testing.B) {
		s := benchSegment(b)
		ctx := context.Background()
		i := 0
		for b.Loop() {
			u, err := s.RLockRows(ctx, i%64, i%64+1)
			if err != nil {
				b.Fatal(err)
			}
			u()
			i++
		}
	})
	b.Run("fcntl-pair", func(b *testing.B) {
		s := benchSegment(b)
		fd, err := unix.Open("/dev/shm/"+s.Name()[len("shm://"):], unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		defer unix.Close(fd)
		for b.Loop() {
			if err := floor.LockPair(fd, s.hdr.DataOff, s.hdr.DataLen); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		n := 0
		for b.Loop() {
			mu.Lock()
			n++
			mu.Unlock()
		}
	})
}

// BenchmarkAtomicAdd: AtomicAdd on an element of a shared segment, on one
// of a heap tensor, and sync/atomic on a plain variable.
func BenchmarkAtomicAdd(b *testing.B) {
	b.Run("shared", func(b *testing.B) {
		name := uniqueName(b)
		t, err := Create[int64](name, []int{8})
		if err != nil {
			b.Fatal(err)
		}
		defer t.Close()
		for b.Loop() {
			AtomicAdd(t, 1, 3)
		}
	})
	b.Run("heap", func(b *testing.B) {
		t := New[int64](8)
		for b.Loop() {
			AtomicAdd(t, 1, 3)
		}
	})
	b.Run("sync-atomic", func(b *testing.B) {
		var n atomic.Int64
		for b.Loop() {
			n.Add(1)
		}
	})
}

// childPingPong answers every ping (element 0) with the same pong (element
// 1) until it reads MaxUint32.
func childPingPong(name string) error {
	t, err := Attach[uint32](name)
	if err != nil {
		return err
	}
	defer t.Close()
	ctx := context.Background()
	last := uint32(0)
	for {
		v := AtomicLoad(t, 0)
		if v == last {
			WaitValue(ctx, t, last, 0)
			continue
		}
		if v == math.MaxUint32 {
			return nil
		}
		last = v
		AtomicStore(t, v, 1)
		Wake(t, 1, 1)
	}
}

// childPipeEcho writes back every byte it reads.
func childPipeEcho(string) error { return floor.Echo(os.Stdin, os.Stdout) }

// BenchmarkRoundTrip: one process wakes another and is woken back, with
// AtomicStore+Wake / WaitValue on a shared element, against a byte sent
// through a pipe and back.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("WaitValue-Wake", func(b *testing.B) {
		name := uniqueName(b)
		t, err := Create[uint32](name, []int{2})
		if err != nil {
			b.Fatal(err)
		}
		defer t.Close()
		cmd := child("pingpong", name)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		i := uint32(0)
		for b.Loop() {
			i++
			AtomicStore(t, i, 0)
			Wake(t, 1, 0)
			for AtomicLoad(t, 1) != i {
				WaitValue(ctx, t, i-1, 1)
			}
		}
		AtomicStore(t, math.MaxUint32, 0)
		Wake(t, 1, 0)
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("pipe", func(b *testing.B) {
		cmd := child("pipe-echo", "")
		in, _ := cmd.StdinPipe()
		out, _ := startChild(b, cmd)
		buf := []byte{'x'}
		for b.Loop() {
			if _, err := in.Write(buf); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(out, buf); err != nil {
				b.Fatal(err)
			}
		}
		in.Close()
		if err := cmd.Wait(); err != nil {
			b.Fatal(fmt.Errorf("echo child: %w", err))
		}
	})
}

// BenchmarkLockHandOff: how long a waiter takes to get a lock after it is
// released, waiting with a context that is never done (asleep in the
// kernel, F_OFD_SETLKW) and with a cancellable one (polling, see Lock).
// The holder releases it 2 ms after the waiter started waiting.
func BenchmarkLockHandOff(b *testing.B) {
	for _, mode := range []string{"blocking", "polling"} {
		b.Run(mode, func(b *testing.B) {
			s := benchSegment(b)
			ctx := context.Background()
			if mode == "polling" {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
			}
			var total time.Duration
			for b.Loop() {
				u, err := s.Lock(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				got := make(chan time.Time)
				go func() {
					u, err := s.Lock(ctx)
					if err != nil {
						b.Error(err)
					}
					got <- time.Now()
					u()
				}()
				time.Sleep(2 * time.Millisecond)
				released := time.Now()
				u()
				total += (<-got).Sub(released)
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/handoff")
		})
	}
}

// TestLockPollingCost logs the processor time a polling waiter uses while
// it waits (not asserted: it depends on the machine).
func TestLockPollingCost(t *testing.T) {
	a, b := twoAttaches(t, 2, 2)
	u, err := a.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var before, after unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &before)
	start := time.Now()
	if _, err := b.Lock(ctx); err == nil {
		t.Fatal("got a held lock")
	}
	unix.Getrusage(unix.RUSAGE_SELF, &after)
	wall := time.Since(start)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) * time.Nanosecond
	u()
	t.Logf("a polling waiter used %v of processor time in %v of waiting (%.2f%% of a core)", cpu, wall.Round(time.Millisecond), 100*cpu.Seconds()/wall.Seconds())
}
