package shmtensor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// errReplaced is what Delete says when the name no longer holds the file it
// validated: what is there now was not checked, so nothing is removed. It
// wraps ErrNotTensor: the file under the name is not (known to be) the
// tensor segment that was asked for; deleting again validates it afresh.
var errReplaced = fmt.Errorf("%w: the name was replaced while being deleted", ErrNotTensor)

// unlinkNamed removes the name if it still refers to the validated file f.
func unlinkNamed(n segName, f *file) error {
	if n.shm && !sys.ShmIsFile {
		return mapErrno(sys.ShmUnlink(n.path), n)
	}
	return unlinkPath(pathOf(n), f)
}

// unlinkPath removes path if it refers to the validated file f, so that a
// file swapped in under the name (rename(2), renameat2 RENAME_EXCHANGE) is
// never removed. Checking the name and then unlinking it would leave a
// window between the two in which the name can change. Instead the file is
// first moved to a private name in the same directory, which atomically
// takes whatever the name held at that instant; what was moved is checked
// against f and unlinked, or, if it is not f, put back. If f.lastCheck is
// set, it runs on the file moved aside before the unlink, and an error from
// it puts the file back too (DeleteUnused: mapped meanwhile).
//
// What remains: between checking the private name and unlinking it, a
// process allowed to rename files in the directory that has read the
// random private name from the directory could swap another file in. In a
// sticky directory such as /dev/shm only the file's owner and root can.
func unlinkPath(path string, f *file) error {
	dir, base := filepath.Split(path)
	// The suffix only has to be hard to guess in advance: renaming to it
	// never replaces a file, and math/rand/v2 draws from a per-process
	// ChaCha8 stream without the system call crypto/rand makes.
	aside := filepath.Join(dir, fmt.Sprintf("%s%s-%016x", asidePrefix, base, rand.Uint64()))
	if err := moveAside(path, aside); err != nil {
		if errors.Is(err, sys.ENAMETOOLONG) {
			// No room for the private name: check and unlink by name.
			if err := lastCheck(f); err != nil {
				return err
			}
			return unlinkChecked(path, f)
		}
		return mapErrno(err, f.name)
	}
	if testHookAside != nil {
		testHookAside(path)
	}
	why := errReplaced
	if id, err := lstatID(aside); err == nil && id == f.id {
		why = lastCheck(f)
	}
	if why == nil {
		if testHookUnlink != nil {
			testHookUnlink(aside)
		}
		if err := sys.Unlink(aside); err != nil {
			return fmt.Errorf("segment moved to %s to delete it, but: %w", aside, mapErrno(err, f.name))
		}
		return nil
	}
	// Not ours (or gone), or refused by the last check: put it back
	// unless the name was taken again.
	if err := putBack(aside, path); err != nil {
		if errors.Is(err, sys.ENOENT) {
			return why
		}
		return fmt.Errorf("%w; the file found under the name is left at %s, the name being taken again: %v", why, aside, err)
	}
	return why
}

// lastCheck runs f.lastCheck, if any.
func lastCheck(f *file) error {
	if f.lastCheck == nil {
		return nil
	}
	return f.lastCheck()
}

// testHookAside, if set, runs between moving a name aside and checking what
// was moved, so that tests can change the name in that window.
var testHookAside func(path string)

// testHookUnlink, if set, runs right before the file moved aside to the
// private name aside is unlinked, so that tests can see what is removed.
var testHookUnlink func(aside string)

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

// unlinkChecked removes path if it still refers to f: the check and the
// unlink are two steps, so a name replaced between them is removed.
func unlinkChecked(path string, f *file) error {
	err := sys.UnlinkID(path, sys.ID(f.id))
	if errors.Is(err, sys.ErrReplaced) {
		return errReplaced
	}
	return mapErrno(err, f.name)
}

// unlinkID removes path if it is still the file id.
func unlinkID(path string, id FileID) error {
	err := sys.UnlinkID(path, sys.ID(id))
	if errors.Is(err, sys.ErrReplaced) {
		return fmt.Errorf("%s was replaced meanwhile; left alone", path)
	}
	return err
}
