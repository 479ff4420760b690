//go:build darwin || freebsd

package sys

// checkMapLimit has nothing to check: only Linux limits the number of
// mappings of a process (vm.max_map_count).
func checkMapLimit() error { return nil }

// MapCounts reports no limit (0) and an unknown count.
func MapCounts() (limit, count int64) { return 0, -1 }
