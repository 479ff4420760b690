package sys

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestReadMemoryCgroup checks the levels read against the files read here
// directly.
func TestReadMemoryCgroup(t *testing.T) {
	cg, ok := ReadMemoryCgroup()
	if !ok {
		t.Skip("no memory cgroup readable here")
	}
	if cg.Version != 1 && cg.Version != 2 || len(cg.Levels) == 0 {
		t.Fatalf("cgroup %+v", cg)
	}
	for _, l := range cg.Levels {
		b, err := os.ReadFile(l.Dir + "/" + l.LimitFile)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		n, err := strconv.ParseInt(s, 10, 64)
		want := int64(-1)
		if err == nil && n < 1<<62 {
			want = n
		}
		if l.Limit != want {
			t.Errorf("%s: limit %d, file says %q", l.Dir, l.Limit, s)
		}
		if l.Usage < 0 {
			t.Errorf("%s: no usage", l.Dir)
		}
	}
	t.Logf("%+v", cg)
}

func TestMountOfFD(t *testing.T) {
	f, err := os.Open("/dev/shm")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	m, ok := MountOfFD(int(f.Fd()))
	if !ok || m.FSType != "tmpfs" || m.Point != "/dev/shm" {
		t.Fatalf("mount of /dev/shm: %+v %v", m, ok)
	}
	if !strings.Contains(m.SuperOptions, "size=") && !strings.Contains(m.SuperOptions, "rw") {
		t.Errorf("super options %q", m.SuperOptions)
	}
	if got := unescapeMount(`/a\040b`); got != "/a b" {
		t.Errorf("unescape: %q", got)
	}
}

// TestCgroupLevelsV2 reads a cgroup v2 tree made of plain files, as a
// container with a cgroup namespace sees it: the limit two levels up, the
// root without memory files, "max" for no limit.
func TestCgroupLevelsV2(t *testing.T) {
	root := t.TempDir()
	write := func(rel, s string) {
		t.Helper()
		p := root + "/" + rel
		if err := os.MkdirAll(p[:strings.LastIndex(p, "/")], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/memory.max", "67108864\n")
	write("a/memory.current", "1048576\n")
	write("a/memory.stat", "anon 1\nfile 9\nactive_file 4096\ninactive_file 8192\nshmem 5\n")
	write("a/b/memory.max", "max\n")
	write("a/b/memory.current", "4096\n")
	levels := cgroupLevels(&Mount{Root: "/", Point: root}, "/a/b", "memory.max", "memory.current", "")
	want := []CgroupLevel{
		{Dir: root + "/a/b", Limit: -1, Usage: 4096, File: -1},
		{Dir: root + "/a", Limit: 64 << 20, Usage: 1 << 20, File: 8192},
	}
	if len(levels) != len(want) {
		t.Fatalf("levels %+v, want %+v", levels, want)
	}
	for i, l := range levels {
		w := want[i]
		if l.Dir != w.Dir || l.Limit != w.Limit || l.Usage != w.Usage || l.File != w.File || l.LimitFile != "memory.max" {
			t.Errorf("level %d: %+v, want %+v", i, l, w)
		}
	}
	// A container without a cgroup namespace: its own cgroup is mounted.
	levels = cgroupLevels(&Mount{Root: "/docker/x", Point: root + "/a/b"}, "/docker/x", "memory.max", "memory.current", "")
	if len(levels) != 1 || levels[0].Dir != root+"/a/b" {
		t.Errorf("mounted own cgroup: %+v", levels)
	}
}
