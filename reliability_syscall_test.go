//go:build linux

package shmtensor

// Kernel limits and interrupted calls: vm.max_map_count and EINTR.

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// TestMapLimit: near vm.max_map_count (lowered for this process only),
// Create and Attach fail with ENOMEM while the headroom remains, and work
// again once segments are closed.
func TestMapLimit(t *testing.T) {
	savedMax := sys.MaxMapCount
	t.Cleanup(func() { sys.MaxMapCount = savedMax; sys.RecountMaps() })
	now := sys.CountMaps()
	if now < 0 {
		t.Skip("no /proc/self/maps")
	}
	limit := now + sys.MapHeadroom + 4
	sys.MaxMapCount = func() int64 { return limit }
	sys.RecountMaps()
	name := uniqueName(t)
	var open []*Tensor[float64]
	defer func() {
		for _, x := range open {
			x.Close()
		}
	}()
	first, err := Create[float64](name, []int{4})
	if err != nil {
		t.Fatal(err)
	}
	open = append(open, first)
	var refused error
	for range 100 {
		x, err := Attach[float64](name)
		if err != nil {
			refused = err
			break
		}
		open = append(open, x)
	}
	if !errors.Is(refused, syscall.ENOMEM) || !strings.Contains(refused.Error(), "vm.max_map_count") ||
		!strings.Contains(refused.Error(), fmt.Sprintf("%d of them segments", sys.Mappings())) {
		t.Fatalf("after %d attaches: %v", len(open), refused)
	}
	if len(open) > 10 {
		t.Fatalf("%d mappings allowed under a limit %d above the count", len(open), limit-now)
	}
	open[len(open)-1].Close()
	open[len(open)-2].Close()
	open = open[:len(open)-2]
	x, err := Attach[float64](name)
	if err != nil {
		t.Fatalf("Attach after closing: %v", err)
	}
	open = append(open, x)
}

// TestEINTRRetried: Create and Attach with Reserve of large segments
// succeed while the thread doing them is flooded with signals. Older
// kernels interrupt a tmpfs fallocate at any signal (EINTR); recent ones
// only at a fatal one (measured on 6.18: no EINTR in 8 fallocates of
// 128 MiB under a million signals), but other filesystems (NFS, FUSE)
// still return EINTR, so TestIgnoringEINTR checks the retry itself.
func TestEINTRRetried(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	tid := unix.Gettid()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				// SIGURG is the Go runtime's preemption signal: handled,
				// harmless, and it interrupts system calls.
				unix.Tgkill(os.Getpid(), tid, unix.SIGURG)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	n := 8
	if testing.Short() {
		n = 3
	}
	for range n {
		name := uniqueName(t)
		a, err := Create[uint8](name, []int{128 << 20})
		if err != nil {
			t.Fatalf("Create under signals: %v", err)
		}
		a.Close()
		b, err := Attach[uint8](name, Reserve())
		if err != nil {
			t.Fatalf("Attach under signals: %v", err)
		}
		b.Close()
		if err := Delete(name); err != nil {
			t.Fatal(err)
		}
	}
}
