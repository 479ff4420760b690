package shmtensor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// Leftover is a hidden file of this package (a name starting with
// ".shmtensor-") that no process uses any more: what a process killed in
// the middle of Create, Replace, Delete or AttachOrCreate leaves behind.
type Leftover struct {
	Path string // the file's path
	// Kind says what made it: "creating" (the temporary name of a segment
	// being created or replaced), "deleting" (the private name Delete
	// moves a segment to before unlinking it) or "lock" (the lock file of
	// AttachOrCreate).
	Kind     string
	ID       FileID
	Size     int64
	Mode     fs.FileMode
	UID, GID uint32
	ModTime  time.Time
	// Foreign marks a "deleting" file that carries no tensor magic: a
	// foreign file a Delete killed in the middle had moved aside, which
	// RemoveLeftover keeps so that its owner can rename it back.
	Foreign bool
}

// Leftovers returns the leftovers in dir (the shared-memory directory if
// dir is ""), sorted by path: the package's hidden regular files that
// belong to the caller (any owner, for root) and that no process uses,
// whatever their age. A file is in use while a process maps it or holds a
// descriptor of it (from /proc: an Unpublished segment keeps its temporary
// name while its creator fills it, and Delete holds what it moved aside)
// or, for a lock file, while a process holds a lock on it (fcntl
// F_OFD_GETLK, which also sees holders in other PID namespaces). Only
// processes whose /proc entries the caller may read are seen: those of its
// own user, or every one for root. Where there is no /proc, Leftovers
// fails with ErrNotSupported.
func Leftovers(dir string) ([]Leftover, error) {
	const op = "leftovers"
	if dir == "" {
		if sys.ShmDir == "" {
			return nil, &Error{Op: op, Err: ErrNotSupported}
		}
		dir = sys.ShmDir
	}
	cands, err := hiddenFiles(dir)
	if err != nil {
		return nil, &Error{Op: op, Name: schemeFile + dir, Err: err}
	}
	out, err := unused(cands, true)
	if err != nil {
		return nil, &Error{Op: op, Name: schemeFile + dir, Err: err}
	}
	return out, nil
}

// RemoveLeftover removes the leftover at path that Leftovers returned
// with identity id, after checking again that the path still holds that
// file and that no process uses it. A "deleting" file that carries no
// tensor magic is a foreign file a killed Delete had moved aside: it is
// not removed (ErrNotTensor), so that its owner can rename it back.
func RemoveLeftover(path string, id FileID) error {
	const op = "removeleftover"
	err := removeLeftover(path, id, true)
	if err != nil {
		return &Error{Op: op, Name: schemeFile + path, Err: err}
	}
	return nil
}

// removeLeftover is RemoveLeftover; unless strict, a system that cannot
// tell which processes use a file is taken to say none does.
func removeLeftover(path string, id FileID, strict bool) error {
	l, err := hiddenFile(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return err
	}
	if l.ID != id {
		return errors.New("it is another file now; left alone")
	}
	if l.Foreign {
		return fmt.Errorf("%w: a foreign file moved aside by a Delete that did not finish; rename it back to its name", ErrNotTensor)
	}
	free, err := unused([]Leftover{l}, strict)
	if err != nil {
		return err
	}
	if len(free) == 0 {
		return errors.New("a process uses it now; left alone")
	}
	return mapErrno(sys.UnlinkID(path, sys.ID(id)), fileAt(path))
}

// leftoverKinds maps the hidden prefixes to Leftover.Kind.
var leftoverKinds = []struct{ prefix, kind string }{
	{tempPrefix, "creating"}, {asidePrefix, "deleting"}, {lockPrefix, "lock"},
}

// hiddenFiles returns the package's hidden regular files in dir that
// belong to the caller (any, for root).
func hiddenFiles(dir string) ([]Leftover, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	var out []Leftover
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), reservedPrefix) {
			continue
		}
		if l, err := hiddenFile(dir, e.Name()); err == nil {
			out = append(out, l)
		}
	}
	return out, nil
}

// hiddenFile describes the hidden file name in dir, or fails if it is not
// one of the package's, not a regular file, or another user's.
func hiddenFile(dir, name string) (Leftover, error) {
	l := Leftover{Path: filepath.Join(dir, name)}
	for _, k := range leftoverKinds {
		if strings.HasPrefix(name, k.prefix) {
			l.Kind = k.kind
		}
	}
	if l.Kind == "" {
		return l, fmt.Errorf("%w: not a file of this package", ErrNotTensor)
	}
	st, err := sys.Lstat(l.Path)
	if err != nil {
		return l, mapErrno(err, fileAt(l.Path))
	}
	if st.Kind != sys.Regular {
		return l, fmt.Errorf("%w: not a regular file", ErrNotTensor)
	}
	if euid, _ := sys.Geteuid(); euid != 0 && st.UID != euid {
		return l, fmt.Errorf("%w: owned by %s", ErrPermission, describeUID(st.UID))
	}
	l.ID, l.Size, l.Mode, l.UID, l.GID, l.ModTime = FileID(st.ID), st.Size, fs.FileMode(st.Perm), st.UID, st.GID, st.ModTime
	if l.Kind == "deleting" {
		// Unless it opens as that same file and carries a magic, it is
		// taken to be foreign.
		l.Foreign = true
		if f, err := openFile(fileAt(l.Path), false); err == nil {
			l.Foreign = f.id != l.ID || !codec.HasMagic(f, f.size)
			f.close()
		}
	}
	return l, nil
}

// unused returns those of cands that no process maps, holds open or (a
// lock file) holds a lock on. Locks are tested first: the test opens the
// file, and the scan of descriptors that follows must not see that one.
// Unless strict, a system without /proc is taken to show no process.
func unused(cands []Leftover, strict bool) ([]Leftover, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	locked := make(map[FileID]bool)
	for _, l := range cands {
		if l.Kind == "lock" && lockHeldAt(l.Path, l.ID) {
			locked[l.ID] = true
		}
	}
	want := make(map[sys.ID]bool, len(cands))
	for _, l := range cands {
		want[sys.ID(l.ID)] = true
	}
	open, err := sys.ScanOpeners(want)
	if err != nil && (strict || !errors.Is(err, ErrNotSupported)) {
		return nil, err
	}
	mapped, err := scanMappers(nil)
	if err != nil && (strict || !errors.Is(err, ErrNotSupported)) {
		return nil, err
	}
	var out []Leftover
	for _, l := range cands {
		if !locked[l.ID] && len(open[sys.ID(l.ID)]) == 0 && len(mapped[l.ID]) == 0 {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b Leftover) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// lockHeldAt reports whether a process holds a lock on the file at path,
// if it is still the file id; when it cannot tell, it says held.
func lockHeldAt(path string, id FileID) bool {
	fd, err := sys.Open(path, false)
	if err != nil {
		return true
	}
	defer sys.Close(fd)
	if now, err := fileIdentity(fd); err != nil || now != id {
		return true
	}
	held, err := sys.LockHeld(fd)
	return err != nil || held
}
