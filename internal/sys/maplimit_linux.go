package sys

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

// MaxMapCount returns vm.max_map_count, read once, or 0 if unknown. It is
// a variable so that tests can lower the limit for this process alone.
var MaxMapCount = sync.OnceValue(func() int64 {
	b, err := os.ReadFile("/proc/sys/vm/max_map_count")
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
})

// CountMaps returns the number of mappings of this process (lines of
// /proc/self/maps), or -1. It costs about a microsecond per mapping, so
// checkMapLimit calls it only near the limit and now and then. It is a
// variable for tests.
var CountMaps = func() int64 {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return -1
	}
	return int64(bytes.Count(b, []byte{'\n'}))
}

var (
	otherMaps   atomic.Int64 // mappings not made by Map, at the last count; -1 before
	oursAtCount atomic.Int64 // liveMappings at the last count
)

func init() { otherMaps.Store(-1) }

// checkMapLimit refuses a new mapping when the process would be left with
// fewer than MapHeadroom mappings under vm.max_map_count. It counts the
// process's mappings the first time, when the estimate (the last count of
// other mappings plus the live ones of Map) comes within twice the headroom
// of the limit, and after every limit/16 new mappings, so that other
// mappings that grew meanwhile are seen.
func checkMapLimit() error {
	limit := MaxMapCount()
	if limit <= 0 {
		return nil
	}
	ours := liveMappings.Load()
	if other := otherMaps.Load(); other >= 0 && other+ours+1+2*MapHeadroom <= limit && ours-oursAtCount.Load() < limit/16 {
		return nil
	}
	total := CountMaps()
	if total < 0 {
		return nil
	}
	otherMaps.Store(max(total-ours, 0))
	oursAtCount.Store(ours)
	if total+1+MapHeadroom > limit {
		return fmt.Errorf("%w: the process has %d memory mappings, %d of them segments of this package, and vm.max_map_count is %d; "+
			"the last %d are left to the Go runtime, which dies when it cannot map memory (close segments, or raise vm.max_map_count)",
			syscall.ENOMEM, total, ours, limit, MapHeadroom)
	}
	return nil
}

// RecountMaps makes the next Map count the process's mappings afresh, for
// tests that change MaxMapCount or CountMaps.
func RecountMaps() { otherMaps.Store(-1) }

// MapCounts returns vm.max_map_count (0 if unknown) and the number of
// mappings of this process now (-1 if unknown).
func MapCounts() (limit, count int64) { return MaxMapCount(), CountMaps() }
