//go:build darwin || freebsd

package sys

// checkMapLimit has nothing to check: only Linux limits the number of
// mappings of a process (vm.max_map_count).
func checkMapLimit() error { return nil }
