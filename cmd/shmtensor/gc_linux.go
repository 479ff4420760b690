package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shmtensor/shmtensor"
	"github.com/shmtensor/shmtensor/internal/units"
	"golang.org/x/sys/unix"
)

// hiddenItems finds the package's hidden files in /dev/shm that gc
// deletes: temporary files (of segments being created, replaced or
// deleted) modified at least olderThan ago that no process maps, and lock
// files as old that no process holds.
func hiddenItems(now time.Time, olderThan time.Duration, matches func(string) bool, mapped map[shmtensor.FileID][]int, root bool) []gcItem {
	var items []gcItem
	hidden, _ := filepath.Glob(filepath.Join("/dev/shm", reservedPrefix+"*"))
	for _, p := range hidden {
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
			continue
		}
		id := shmtensor.FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}
		age := now.Sub(time.Unix(st.Mtim.Unix()))
		file := filepath.Base(p)
		if age < olderThan || !matches(hiddenBase(file)) || (!root && st.Uid != uint32(os.Geteuid())) {
			continue
		}
		switch {
		case strings.HasPrefix(file, lockPrefix):
			if held, err := lockHeld(p); err != nil || held {
				continue
			}
			items = append(items, gcItem{"lock file", p, id, fmt.Sprintf("no process holds it, modified %s ago", age.Round(time.Second))})
		case len(mapped[id]) == 0 && !held(p):
			items = append(items, gcItem{"temporary file", p, id, fmt.Sprintf("%s, unmapped, modified %s ago",
				units.Bytes(st.Size), age.Round(time.Second))})
		}
	}
	return items
}

// lockHeld reports whether any process holds a lock on the file at p
// (fcntl F_OFD_GETLK: it sees open file description locks and classic
// POSIX locks alike).
func lockHeld(p string) (bool, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, err
	}
	defer unix.Close(fd)
	lk := unix.Flock_t{Type: unix.F_WRLCK}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}

// deleteHidden removes a hidden file found by hiddenItems after checking
// again that it is the same file, not held (a lock file) or not mapped
// (a temporary file).
func deleteHidden(it gcItem) error {
	if it.what == "lock file" {
		if held, err := lockHeld(it.name); err != nil || held {
			return leftAlone("held by a process now")
		}
	} else {
		mapped, err := shmtensor.MappedBy()
		if err != nil {
			return err
		}
		if len(mapped[it.id]) > 0 || held(it.name) {
			return leftAlone("mapped or held by a process now")
		}
	}
	var st unix.Stat_t
	if err := unix.Lstat(it.name, &st); err != nil {
		return err
	}
	if (shmtensor.FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}) != it.id {
		return leftAlone("replaced since the scan")
	}
	return os.Remove(it.name)
}

// held reports whether any process holds a lock on the file at p, such as
// the liveness lock every process that has a segment open (an Unpublished
// one under a temporary name included) holds, seen across PID namespaces;
// a file that cannot be tested counts as held.
func held(p string) bool {
	h, err := lockHeld(p)
	return err != nil || h
}

// segmentHeld reports whether the shared-memory segment base is held
// (see held). A name gone meanwhile counts as not held: the deletion then
// finds it gone.
func segmentHeld(base string) bool {
	h, err := lockHeld(filepath.Join("/dev/shm", base))
	return h || (err != nil && !errors.Is(err, unix.ENOENT))
}
