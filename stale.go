package shmtensor

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// StaleAge is how old a temporary file of this package must be before
// RemoveStale, and Create on its own, remove it: an hour. Create's
// temporary name lives from the moment it is made to the moment the segment
// is linked under its real name, which takes as long as reserving the pages
// (fallocate: metadata only on disk filesystems, about 0.3 s per GiB on
// tmpfs); Delete's private name lives for one unlink. A file of either
// kind untouched for an hour belongs to a process that was killed.
const StaleAge = time.Hour

// RemoveStale removes, from dir (the shared-memory directory if dir is ""),
// the temporary files this package's Create and Delete leave behind when
// the process is killed in the middle (names starting with ".shmtensor-"),
// if they were last modified more than olderThan ago, belong to the
// caller (any owner, for root) and, on Linux, no process maps them (an
// Unpublished segment keeps such a name while its creator fills it). It
// returns the paths it removed. A Create that has to use a temporary name
// (on a filesystem without O_TMPFILE) calls it itself with StaleAge, once
// an hour per directory and process.
// Where shared memory has no directory (FreeBSD, macOS), dir "" fails with
// ErrNotSupported.
func RemoveStale(dir string, olderThan time.Duration) ([]string, error) {
	const op = "removestale"
	if dir == "" {
		if sys.ShmDir == "" {
			return nil, &Error{Op: op, Err: ErrNotSupported}
		}
		dir = sys.ShmDir
	}
	removed, err := removeStale(dir, olderThan, time.Now())
	if err != nil {
		return removed, &Error{Op: op, Name: schemeFile + dir, Err: err}
	}
	return removed, nil
}

func removeStale(dir string, olderThan time.Duration, now time.Time) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	var removed []string
	var mapped map[FileID][]int // read once, if there is anything to remove
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, tempPrefix) && !strings.HasPrefix(name, asidePrefix) {
			continue
		}
		p := filepath.Join(dir, name)
		if ok, err := staleTemporary(p, olderThan, now); err != nil || !ok {
			continue
		}
		// An Unpublished segment keeps its temporary name for as long as
		// its creator fills it: a mapped file is not stale, however old.
		if mapped == nil {
			if mapped, _ = scanMappers(nil); mapped == nil {
				mapped = map[FileID][]int{} // the system cannot tell
			}
		}
		if mappedFile(p, mapped) || heldFile(p) {
			continue
		}
		if os.Remove(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed, nil
}

// swept records, per directory, when this process last swept it.
var swept sync.Map // string -> time.Time

// sweepOnce removes the stale temporary files of dir, at most once per
// StaleAge per directory: reading a large directory on every Create would
// cost more than the leftovers.
func sweepOnce(dir string) {
	if dir == "" {
		dir = "."
	}
	now := time.Now()
	if last, ok := swept.Load(dir); ok && now.Sub(last.(time.Time)) < StaleAge {
		return
	}
	swept.Store(dir, now)
	removeStale(dir, StaleAge, now)
}

// staleTemporary reports whether the file at p is a regular file of the
// caller's (any, for root) last modified more than age before now.
func staleTemporary(p string, age time.Duration, now time.Time) (bool, error) {
	st, err := sys.Lstat(p)
	if err != nil {
		return false, err
	}
	if st.Kind != sys.Regular {
		return false, nil
	}
	if euid, _ := sys.Geteuid(); euid != 0 && st.UID != euid {
		return false, nil
	}
	return now.Sub(st.ModTime) > age, nil
}

// scanMappers returns the ids of the processes mapping each file (only
// the file want, if not nil), from /proc.
func scanMappers(want *FileID) (map[FileID][]int, error) {
	m, err := sys.ScanMappers((*sys.ID)(want))
	if err != nil {
		return nil, err
	}
	table := make(map[FileID][]int, len(m))
	for id, pids := range m {
		table[FileID(id)] = pids
	}
	return table, nil
}

// mappedFile reports whether mapped lists a process mapping the file at p.
func mappedFile(p string, mapped map[FileID][]int) bool {
	id, err := lstatID(p)
	return err == nil && len(mapped[id]) > 0
}
