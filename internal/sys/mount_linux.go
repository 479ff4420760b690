package sys

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Mount is one line of /proc/self/mountinfo (proc(5)).
type Mount struct {
	Dev          uint64 // device number of the filesystem (st_dev)
	Root         string // the directory of the filesystem mounted there ("/" for all of it)
	Point        string // mount point
	Options      string // per-mount options (rw, nosuid, ...)
	FSType       string // "tmpfs", "ext4", "cgroup2", ...
	Source       string
	SuperOptions string // the filesystem's own options (size=, huge=, the cgroup v1 controllers)
}

// Mounts returns the mounts this process sees, in the order of
// /proc/self/mountinfo: a later mount on the same point hides an earlier one.
func Mounts() ([]Mount, error) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var ms []Mount
	for line := range bytes.Lines(b) {
		f := strings.Fields(string(line))
		sep := -1
		for i, s := range f {
			if s == "-" && i >= 6 {
				sep = i
				break
			}
		}
		if sep < 0 || len(f) < sep+4 {
			continue
		}
		major, minor, ok := strings.Cut(f[2], ":")
		maj, err1 := strconv.ParseUint(major, 10, 32)
		mnr, err2 := strconv.ParseUint(minor, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		ms = append(ms, Mount{
			Dev:          unix.Mkdev(uint32(maj), uint32(mnr)),
			Root:         unescapeMount(f[3]),
			Point:        unescapeMount(f[4]),
			Options:      f[5],
			FSType:       f[sep+1],
			Source:       unescapeMount(f[sep+2]),
			SuperOptions: f[sep+3],
		})
	}
	return ms, nil
}

// unescapeMount undoes the octal escapes (\040 for a space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// MountOfFD returns the mount that holds the open file fd: the last mount
// of its device whose point is a prefix of the file's path.
func MountOfFD(fd int) (Mount, bool) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(fd, &st) }); err != nil {
		return Mount{}, false
	}
	ms, err := Mounts()
	if err != nil {
		return Mount{}, false
	}
	path, _ := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	var found Mount
	ok := false
	for _, m := range ms {
		if m.Dev != uint64(st.Dev) {
			continue
		}
		if path == "" || pathUnder(path, m.Point) || !ok {
			found, ok = m, true
		}
	}
	return found, ok
}

// pathUnder reports whether path is dir or inside it.
func pathUnder(path, dir string) bool {
	return dir == "/" || path == dir || strings.HasPrefix(path, dir+"/")
}
