package shmtensor

import (
	"slices"
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
// the hidden files this package's Create, Replace, Delete and
// AttachOrCreate leave behind when the process is killed in the middle
// (names starting with ".shmtensor-"), if they were last modified more
// than olderThan ago (0: whatever their age), belong to the caller (any
// owner, for root) and no process uses them: on Linux, none maps them or
// holds them open (an Unpublished segment keeps such a name while its
// creator fills it), and none holds a lock on a lock file (see Leftovers;
// where there is no /proc, only the lock and the age tell). A file that
// a killed Delete had moved aside is removed only if it carries a tensor
// magic. It returns the paths it removed. A Create that has to use a
// temporary name (on a filesystem without O_TMPFILE) calls it itself with
// StaleAge, once an hour per directory and process.
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
	cands, err := hiddenFiles(dir)
	if err != nil {
		return nil, err
	}
	cands = slices.DeleteFunc(cands, func(l Leftover) bool { return olderThan > 0 && now.Sub(l.ModTime) <= olderThan })
	free, err := unused(cands, false)
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, l := range free {
		if removeLeftover(l.Path, l.ID, false) == nil {
			removed = append(removed, l.Path)
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
