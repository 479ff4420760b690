//go:build torture && linux

package shmtensor

// Part of the adversarial campaign (torture_test.go).
// The campaign's resource checks: leaks of descriptors and mappings, and
// the mapping limit.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/shmtensor/shmtensor/internal/sys"
)

func init() {
	childRoles["torture-maplimit"] = tortureMapLimit
}

func countFDs() int {
	es, _ := os.ReadDir("/proc/self/fd")
	return len(es)
}

func countSegmentMaps() int {
	b, _ := os.ReadFile("/proc/self/maps")
	return bytes.Count(b, []byte("/dev/shm/shmtensor-test-"))
}

// TestTortureLeaks: many create/attach/close/delete cycles, successful and
// failing, leave the process with the descriptors and segment mappings it
// had.
func TestTortureLeaks(t *testing.T) {
	cycles := scale(100000, 2000)
	runtime.GC()
	fd0, maps0, live0 := countFDs(), countSegmentMaps(), sys.Mappings()
	name := uniqueName(t)
	for i := range cycles {
		var opts []Option
		if i%2 == 1 {
			opts = append(opts, SharedArrayLayout())
		}
		a, err := Create[float32](name, []int{16, 16}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Create[float32](name, []int{1}); !errors.Is(err, ErrExist) {
			t.Fatal(err)
		}
		b, err := Attach[float32](name, ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Attach[int8](name); !errors.Is(err, ErrDType) {
			t.Fatal(err)
		}
		b.Close()
		a.Close()
		if err := Delete(name); err != nil {
			t.Fatal(err)
		}
	}
	fd1, maps1, live1 := countFDs(), countSegmentMaps(), sys.Mappings()
	result(t, "cycles", cycles, "fds_before", fd0, "fds_after", fd1, "segment_maps_before", maps0, "segment_maps_after", maps1,
		"live_mappings_before", live0, "live_mappings_after", live1)
	if fd1 != fd0 || maps1 != maps0 || live1 != live0 {
		t.Fatal("leak")
	}
}

// tortureMapLimit attaches one segment until refused, then grows the heap
// by 512 MiB: the runtime must survive. With SHMTENSOR_FAKE_LIMIT it
// lowers the limit for this process only.
func tortureMapLimit(name string) error {
	if v := os.Getenv("SHMTENSOR_FAKE_LIMIT"); v != "" {
		extra, _ := strconv.ParseInt(v, 10, 64)
		limit := sys.CountMaps() + sys.MapHeadroom + extra
		sys.MaxMapCount = func() int64 { return limit }
	}
	var open []*Segment
	var refused error
	for {
		s, err := Open(name, ReadOnly())
		if err != nil {
			refused = err
			break
		}
		open = append(open, s)
	}
	if !errors.Is(refused, syscall.ENOMEM) || !strings.Contains(refused.Error(), "vm.max_map_count") {
		return fmt.Errorf("after %d mappings: %v", len(open), refused)
	}
	var heap [][]byte
	for range 512 {
		b := make([]byte, 1<<20)
		b[0] = 1
		heap = append(heap, b)
	}
	runtime.GC()
	fmt.Println(len(open), len(heap), refused)
	for _, s := range open {
		s.Close()
	}
	return nil
}

// TestTortureMapLimit: near vm.max_map_count, Open is refused with ENOMEM
// while the runtime still has room to grow the heap. By default the limit
// is lowered for the child process alone (through the package's view of
// it); with SHMTENSOR_TORTURE_SYSCTL=1 (root) the real sysctl is lowered
// to 8192 for the duration and restored.
func TestTortureMapLimit(t *testing.T) {
	name := uniqueName(t)
	a, err := Create[uint8](name, []int{16})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	env := []string{fmt.Sprintf("SHMTENSOR_FAKE_LIMIT=%d", scale(3000, 200))}
	how := "package_limit"
	if os.Getenv("SHMTENSOR_TORTURE_SYSCTL") == "1" {
		needRoot(t, "sysctl vm.max_map_count")
		old, err := os.ReadFile("/proc/sys/vm/max_map_count")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("/proc/sys/vm/max_map_count", []byte("8192"), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.WriteFile("/proc/sys/vm/max_map_count", old, 0) })
		env, how = nil, "sysctl_8192"
	}
	out, err := child("torture-maplimit", name, env...).Output()
	if err != nil {
		t.Fatalf("child: %v %s", err, out)
	}
	fields := strings.Fields(string(out))
	result(t, "limit", how, "segments_mapped_before_refusal", fields[0], "heap_MiB_grown_after", fields[1], "runtime_died", 0)
	t.Log(string(out))
}
