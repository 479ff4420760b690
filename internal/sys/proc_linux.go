package sys

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/shmtensor/shmtensor/internal/errs"
)

// processes returns the ids of the processes /proc lists.
func processes() ([]int, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("%w: /proc is not available: %v", errs.ErrNotSupported, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("read /proc: %w", err)
	}
	pids := make([]int, 0, len(names))
	for _, name := range names {
		if pid, err := strconv.Atoi(name); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// ScanMappers reads /proc/PID/maps of every process it may read and
// returns the ids of the processes mapping each file (only the file want,
// if not nil). Processes that exit or that it may not read (another
// user's, unless root) are skipped.
func ScanMappers(want *ID) (map[ID][]int, error) {
	pids, err := processes()
	if err != nil {
		return nil, err
	}
	table := make(map[ID][]int)
	for _, pid := range pids {
		name := strconv.Itoa(pid)
		f, err := os.Open("/proc/" + name + "/maps")
		if err != nil {
			continue
		}
		seen := make(map[ID]bool)
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 4096), 1<<20)
		for sc.Scan() {
			id, ok := ParseMapsLine(sc.Bytes())
			if !ok || seen[id] || (want != nil && id != *want) {
				continue
			}
			seen[id] = true
			table[id] = append(table[id], pid)
		}
		f.Close()
	}
	for _, pids := range table {
		slices.Sort(pids)
	}
	return table, nil
}

// ScanOpeners reads /proc/PID/fd of every process it may read and returns
// the ids of the processes holding a descriptor of each of the files want.
// Processes that exit or that it may not read are skipped.
func ScanOpeners(want map[ID]bool) (map[ID][]int, error) {
	pids, err := processes()
	if err != nil {
		return nil, err
	}
	table := make(map[ID][]int)
	for _, pid := range pids {
		name := strconv.Itoa(pid)
		dir := "/proc/" + name + "/fd/"
		f, err := os.Open(dir)
		if err != nil {
			continue
		}
		fds, _ := f.Readdirnames(-1)
		f.Close()
		seen := make(map[ID]bool)
		for _, fd := range fds {
			// stat(2) of the magic link is the open file itself, also
			// once its name is gone or changed.
			var st unix.Stat_t
			if unix.Stat(dir+fd, &st) != nil {
				continue
			}
			id := ID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}
			if want[id] && !seen[id] {
				seen[id] = true
				table[id] = append(table[id], pid)
			}
		}
	}
	for _, pids := range table {
		slices.Sort(pids)
	}
	return table, nil
}

// ParseMapsLine parses the device and inode of a /proc/PID/maps line:
// "address perms offset major:minor inode path", device numbers in hex,
// the inode in decimal (proc(5)); inode 0 is an anonymous mapping.
func ParseMapsLine(line []byte) (ID, bool) {
	var field [5][]byte
	for i := range field {
		line = bytes.TrimLeft(line, " ")
		j := bytes.IndexByte(line, ' ')
		if j < 0 {
			if i < 4 {
				return ID{}, false
			}
			j = len(line)
		}
		field[i], line = line[:j], line[j:]
	}
	maj, min, ok := bytes.Cut(field[3], []byte{':'})
	if !ok {
		return ID{}, false
	}
	major, err1 := strconv.ParseUint(string(maj), 16, 32)
	minor, err2 := strconv.ParseUint(string(min), 16, 32)
	ino, err3 := strconv.ParseUint(string(field[4]), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || ino == 0 {
		return ID{}, false
	}
	return ID{Dev: unix.Mkdev(uint32(major), uint32(minor)), Ino: ino}, true
}

// HugeBytes reads /proc/self/smaps for the bytes of mem mapped by huge
// pages (PMD mappings: ShmemPmdMapped for tmpfs, FilePmdMapped for other
// files).
func HugeBytes(mem []byte) (int64, error) { return SmapsBytes(mem, hugeKeys...) }

// SmapsBytes sums the fields keys of /proc/self/smaps over mem's mapping.
func SmapsBytes(mem []byte, keys ...string) (int64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	lo, hi := memRange(mem)
	return SmapsSum(f, lo, hi, keys...)
}
