package sys

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// CgroupLevel is one level of this process's memory cgroup: the cgroup
// itself or one of its ancestors. A tmpfs page is charged to the cgroup of
// the process that allocates it and to every ancestor, and each level's
// limit applies.
type CgroupLevel struct {
	Dir       string // the cgroup's directory in cgroupfs
	LimitFile string // the file holding the limit: memory.max (v2) or memory.limit_in_bytes (v1)
	Limit     int64  // bytes; -1 when the level sets no limit
	Usage     int64  // bytes charged, descendants included; -1 unknown
	File      int64  // of Usage, inactive page cache of files (not tmpfs), which reclaim can drop; -1 unknown

	usageFile, statPrefix string
}

// MemoryCgroup is the memory cgroup of this process, levels from its own
// up to the highest one the process can see (its cgroup namespace's root).
type MemoryCgroup struct {
	Version int    // 1 or 2
	Path    string // the cgroup as /proc/self/cgroup names it
	Levels  []CgroupLevel
}

// cgroupMounts are the cgroupfs mounts with the memory controller, found
// once: v1 "cgroup" mounts with the memory option, and cgroup2 mounts.
var cgroupMounts = sync.OnceValues(func() (v1, v2 *Mount) {
	ms, err := Mounts()
	if err != nil {
		return nil, nil
	}
	for i := range ms {
		m := &ms[i]
		switch {
		case m.FSType == "cgroup" && hasOption(m.SuperOptions, "memory"):
			v1 = m
		case m.FSType == "cgroup2":
			v2 = m
		}
	}
	return v1, v2
})

func hasOption(opts, o string) bool {
	for s := range strings.SplitSeq(opts, ",") {
		if s == o {
			return true
		}
	}
	return false
}

// ReadMemoryCgroup reads the memory cgroup of this process afresh (the
// process may have been moved, a limit changed). ok is false when the
// process has none that it can read (no cgroupfs mounted, another system).
func ReadMemoryCgroup() (cg MemoryCgroup, ok bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return cg, false
	}
	v1, v2 := cgroupMounts()
	var path1, path2 string
	for line := range bytes.Lines(b) {
		id, rest, _ := strings.Cut(strings.TrimSpace(string(line)), ":")
		ctrls, path, _ := strings.Cut(rest, ":")
		switch {
		case id == "0" && ctrls == "":
			path2 = path
		case hasOption(ctrls, "memory"):
			path1 = path
		}
	}
	switch {
	case v1 != nil && path1 != "":
		cg = MemoryCgroup{Version: 1, Path: path1}
		cg.Levels = cgroupLevels(v1, path1, "memory.limit_in_bytes", "memory.usage_in_bytes", "total_")
	case v2 != nil && path2 != "":
		cg = MemoryCgroup{Version: 2, Path: path2}
		cg.Levels = cgroupLevels(v2, path2, "memory.max", "memory.current", "")
	}
	return cg, len(cg.Levels) > 0
}

// cgroupLevels reads the levels of the cgroup path in the hierarchy
// mounted at m, from the cgroup up to the mount's root. The mount's root
// may itself be a cgroup (a container without a cgroup namespace sees its
// own cgroup mounted at /sys/fs/cgroup); path is then relative to it.
func cgroupLevels(m *Mount, path, limitFile, usageFile, statPrefix string) []CgroupLevel {
	path = strings.TrimSuffix(path, " (deleted)")
	rel := path
	if m.Root != "/" {
		if r, ok := strings.CutPrefix(path, m.Root); ok && (r == "" || r[0] == '/') {
			rel = r
		}
	}
	dir := filepath.Join(m.Point, rel)
	if _, err := os.Stat(dir); err != nil {
		dir = m.Point
	}
	var levels []CgroupLevel
	for {
		l := CgroupLevel{Dir: dir, LimitFile: limitFile, Limit: -1, usageFile: usageFile, statPrefix: statPrefix}
		if s, err := readTrimmed(filepath.Join(dir, limitFile)); err == nil {
			l.Limit = parseLimit(s)
		}
		l = l.Refresh()
		// The v2 root has neither file: nothing to report there.
		if l.Limit >= 0 || l.Usage >= 0 {
			levels = append(levels, l)
		}
		if dir == m.Point || len(dir) <= len(m.Point) {
			return levels
		}
		dir = filepath.Dir(dir)
	}
}

// Refresh returns l with its Usage read again, and its File where it has a
// limit (the limit itself is not read again).
func (l CgroupLevel) Refresh() CgroupLevel {
	l.Usage, l.File = -1, -1
	if s, err := readTrimmed(filepath.Join(l.Dir, l.usageFile)); err == nil {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			l.Usage = n
		}
	}
	if l.Limit >= 0 {
		l.File = fileCache(filepath.Join(l.Dir, "memory.stat"), l.statPrefix)
	}
	return l
}

// parseLimit reads a limit file: "max" (v2) or a number of bytes, where v1
// writes "no limit" as the largest page count (9223372036854771712).
func parseLimit(s string) int64 {
	if s == "max" {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n >= 1<<62 {
		return -1
	}
	return n
}

// fileCache returns inactive_file of a memory.stat (with v1's hierarchical
// "total_" prefix): page cache that reclaim can drop to make room without
// taking pages in use. Active file pages (a running program's text among
// them) are not counted: reclaiming them thrashes, and the OOM killer
// comes first. tmpfs pages are on the anonymous lists and are not counted.
func fileCache(stat, prefix string) int64 {
	b, err := os.ReadFile(stat)
	if err != nil {
		return -1
	}
	var sum int64
	found := 0
	for line := range bytes.Lines(b) {
		k, v, _ := strings.Cut(strings.TrimSpace(string(line)), " ")
		if k == prefix+"inactive_file" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return -1
			}
			sum += n
			found++
		}
	}
	if found != 1 {
		return -1
	}
	return sum
}

func readTrimmed(path string) (string, error) {
	b, err := os.ReadFile(path)
	return string(bytes.TrimSpace(b)), err
}

// SwapFree returns the free swap space of the system in bytes (SwapFree of
// /proc/meminfo), 0 if none or unknown: tmpfs pages can be swapped out to
// make room under a cgroup's limit.
func SwapFree() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range bytes.Lines(b) {
		if v, ok := bytes.CutPrefix(line, []byte("SwapFree:")); ok {
			f := strings.Fields(string(v))
			if len(f) == 2 && f[1] == "kB" {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n << 10
				}
			}
		}
	}
	return 0
}
