package shmtensor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// acceptFunc says whether a file found under a name being deleted may be
// removed: nil, or why not.
type acceptFunc func(x *file) error

// isSegment accepts a valid tensor segment: what Delete removes.
func isSegment(x *file) error {
	_, err := readHeader(x)
	return err
}

// maxSwaps bounds how many files unlinkPath looks at: only a name that
// other processes keep filling with files it must give back reaches it.
const maxSwaps = 8

// errKeptChanging is what Delete says when the name kept receiving files
// it had to give back (see maxSwaps).
var errKeptChanging = fmt.Errorf("%w: the name kept changing while being deleted", ErrNotTensor)

// unlinkNamed removes the name if what it holds is the validated file f or
// another file that accept takes (see unlinkPath).
func unlinkNamed(n segName, f *file, accept acceptFunc) error {
	if n.shm && !sys.ShmIsFile {
		return mapErrno(sys.ShmUnlink(n.path), n)
	}
	return unlinkPath(pathOf(n), f, accept)
}

// unlinkPath removes path if what it holds is the validated file f, or
// another file that accept takes, so that a file swapped in under the
// name (rename(2), renameat2 RENAME_EXCHANGE) is never removed. Checking
// the name and then unlinking it would leave a window between the two in
// which the name can change. Instead whatever the name holds is first
// moved to a private name in the same directory, which atomically takes
// it; what was moved is then checked and unlinked, or given back (see
// settleAside). Either way nothing stays at the private name.
//
// What remains: between checking the private name and unlinking it, a
// process allowed to rename files in the directory that has read the
// random private name from the directory could swap another file in. In a
// sticky directory such as /dev/shm only the file's owner and root can.
func unlinkPath(path string, f *file, accept acceptFunc) error {
	dir, base := filepath.Split(path)
	// The suffix only has to be hard to guess in advance: renaming to it
	// never replaces a file, and math/rand/v2 draws from a per-process
	// ChaCha8 stream without the system call crypto/rand makes.
	aside := filepath.Join(dir, fmt.Sprintf("%s%s-%016x", asidePrefix, base, rand.Uint64()))
	if err := moveAside(path, aside); err != nil {
		if errors.Is(err, sys.ENAMETOOLONG) {
			// No room for the private name: check and unlink by name.
			return unlinkChecked(path, f, accept)
		}
		return mapErrno(err, f.name)
	}
	if testHookAside != nil {
		testHookAside(path)
	}
	return settleAside(aside, path, f, accept)
}

// settleAside decides the fate of the file moved from path to aside. The
// validated file f, or any file accept takes (a tensor segment for Delete:
// another process replaced or re-created the segment since it was
// validated, and the name held this one when it was taken), is unlinked,
// and the name stays as other processes left it. Anything else is given
// back: renamed to path unless the name was taken again meanwhile, in
// which case, if what took the name is a file accept takes, the two are
// exchanged atomically and what took the name is looked at in turn. So a
// file is left at the private name only when two files that must be given
// back compete for the name, or the name keeps changing, or the system
// cannot exchange names; the error then says where it is.
func settleAside(aside, path string, f *file, accept acceptFunc) error {
	var refused error // why a file found aside was given back
	for range maxSwaps {
		id, err := lstatID(aside)
		if err != nil {
			// Removed by another process: gc found it unused.
			return refused
		}
		why := errors.New("not the file validated")
		if id == f.id {
			why = nil
		} else if x, err := openFile(fileAt(aside), false); err != nil {
			why = err
		} else {
			if x.id == id {
				why = accept(x)
			}
			x.close()
		}
		if why == nil {
			if err := sys.UnlinkID(aside, sys.ID(id)); err != nil && !errors.Is(err, sys.ErrReplaced) && !errors.Is(err, sys.ENOENT) {
				return fmt.Errorf("segment moved to %s to delete it, but: %w", aside, mapErrno(err, f.name))
			} else if errors.Is(err, sys.ErrReplaced) {
				continue // swapped at the private name: look again
			}
			return refused
		}
		if refused == nil {
			refused = fmt.Errorf("%w: the name was given a file that is not a tensor segment while being deleted (%v); left alone", ErrNotTensor, why)
		}
		err = putBack(aside, path)
		switch {
		case err == nil, errors.Is(err, sys.ENOENT):
			return refused
		case !errors.Is(err, sys.EEXIST):
			return fmt.Errorf("%w; the file found under the name is left at %s: %v", refused, aside, err)
		}
		// The name was taken again. If by a file accept takes (a segment
		// created meanwhile), give this file its name back and look at the
		// one that took it, which the exchange moves aside. Two files
		// that must both be given back cannot share the name.
		y, err := openFile(fileAt(path), false)
		if err != nil {
			continue // gone again, or not openable: look again
		}
		why = accept(y)
		y.close()
		if why != nil {
			return fmt.Errorf("%w; the file found under the name is left at %s, the name being taken again by another file that is not a tensor segment", refused, aside)
		}
		if err := sys.Exchange(aside, path); err != nil && !errors.Is(err, sys.ENOENT) {
			return fmt.Errorf("%w; the file found under the name is left at %s, the name being taken again: %v", refused, aside, err)
		}
	}
	return fmt.Errorf("%w; a file found under the name is left at %s", errKeptChanging, aside)
}

// testHookAside, if set, runs between moving a name aside and checking what
// was moved, so that tests can change the name in that window.
var testHookAside func(path string)

// moveAside renames from to the fresh private name to. RENAME_NOREPLACE
// guards the (random) private name; where the filesystem lacks it, plain
// rename is used, the name being random.
func moveAside(from, to string) error {
	err := sys.RenameNoReplace(from, to)
	if errors.Is(err, sys.ErrNoRenameFlags) {
		err = sys.Rename(from, to)
	}
	return err
}

// putBack renames from to to unless to exists.
func putBack(from, to string) error {
	err := sys.RenameNoReplace(from, to)
	if errors.Is(err, sys.ErrNoRenameFlags) {
		// link(2) fails if to exists; the private name is then dropped.
		if err = sys.Link(from, to); err == nil {
			sys.Unlink(from)
		}
	}
	return err
}

// unlinkChecked removes path if it holds f or a file accept takes: the
// check and the unlink are two steps, so a name replaced between them is
// removed.
func unlinkChecked(path string, f *file, accept acceptFunc) error {
	id := f.id
	for range maxSwaps {
		err := sys.UnlinkID(path, sys.ID(id))
		if !errors.Is(err, sys.ErrReplaced) {
			return mapErrno(err, f.name)
		}
		x, err := openFile(fileAt(path), false)
		if err != nil {
			return err
		}
		why := accept(x)
		id = x.id
		x.close()
		if why != nil {
			return fmt.Errorf("%w: the name was given a file that is not a tensor segment while being deleted (%v); left alone", ErrNotTensor, why)
		}
	}
	return errKeptChanging
}

// unlinkID removes path if it is still the file id.
func unlinkID(path string, id FileID) error {
	err := sys.UnlinkID(path, sys.ID(id))
	if errors.Is(err, sys.ErrReplaced) {
		return fmt.Errorf("%s was replaced meanwhile; left alone", path)
	}
	return err
}
