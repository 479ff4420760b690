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
