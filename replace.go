package shmtensor

import (
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// fileAt names a path for openFile, whatever directory it is in.
func fileAt(path string) segName { return segName{name: schemeFile + path, path: path} }

// inspect returns the identity of the tensor segment at path: an error
// wrapping ErrNotExist if there is nothing, ErrNotTensor if there is
// something else.
func inspect(path string) (FileID, error) {
	f, err := openFile(fileAt(path), false)
	if err != nil {
		return FileID{}, err
	}
	defer f.close()
	if _, err := readHeader(f); err != nil {
		return FileID{}, err
	}
	return f.id, nil
}

// tempName returns a fresh hidden name in the directory of final.
func tempName(final string) string {
	dir, base := filepath.Split(final)
	var b [8]byte
	rand.Read(b[:])
	return filepath.Join(dir, fmt.Sprintf("%s%s-%x.tmp", tempPrefix, base, b))
}

// testHookBeforeExchange, set by tests only, runs between Replace's check
// of the target and the exchange, where another process could act.
var testHookBeforeExchange func(final string)

// replaceStaged names the staged file *cp (identity self) n, in place of
// the tensor segment there. The target is checked first, so a foreign file
// is refused without being touched; the swap itself is an exchange of
// names, after which what was displaced is checked again: if a foreign
// file was put there in between, it is swapped back, so nothing but a
// tensor segment is ever removed.
//
// An O_TMPFILE file, once linked, can never be linked again after its last
// name goes (linkat(2), ENOENT): if Replace fails after giving it a private
// name, the segment keeps that name, and *cp becomes a tempCreator for it.
func replaceStaged(cp *creator, n segName, self FileID) (err error) {
	c := *cp
	final := pathOf(n)
	if n.shm && !sys.ShmIsFile {
		return ErrNotSupported
	}
	var (
		tmp    string // a name holding the staged file, for rename
		ownTmp bool   // tmp was made here
	)
	if tc, ok := c.(*tempCreator); ok {
		tmp = tc.tmp
	}
	defer func() {
		switch {
		case !ownTmp:
		case err == nil:
			unlinkID(tmp, self) // published under final too
		default:
			*cp = &tempCreator{fd: c.descriptor(), tmp: tmp, final: final}
		}
	}()
	for range 100 {
		_, err := inspect(final)
		switch {
		case errors.Is(err, ErrNotExist):
			// Nothing to replace: an exclusive link, as Publish.
			err := c.publish()
			if errors.Is(err, sys.EEXIST) {
				continue // something appeared: look at it
			}
			return createErrno(err, n)
		case errors.Is(err, ErrNotTensor):
			return fmt.Errorf("%w: the name holds something that is not a tensor segment; left alone", err)
		case err != nil:
			return err
		}
		if tmp == "" {
			tmp = tempName(final)
			if err := sys.LinkFD(c.descriptor(), tmp); err != nil {
				return err
			}
			ownTmp = true
		}
		if testHookBeforeExchange != nil {
			testHookBeforeExchange(final)
		}
		err = exchange(tmp, final)
		switch {
		case errors.Is(err, sys.ErrNoExchange):
			// Check and rename are two steps here: a foreign file put
			// under the name in between would be replaced.
			if err := sys.Rename(tmp, final); err != nil {
				return err
			}
			ownTmp = false
			return nil
		case errors.Is(err, sys.ENOENT):
			continue // the target went away: link instead
		case err != nil:
			return err
		}
		// tmp now holds what was under the name.
		if displaced, err := inspect(tmp); err == nil {
			ownTmp = false
			// ENOENT: gc found it unused there first, and removed it.
			if err := unlinkID(tmp, displaced); err != nil && !errors.Is(err, sys.ENOENT) {
				return fmt.Errorf("replaced, but the old segment kept the name %s: %w", tmp, err)
			}
			return nil
		}
		// A foreign file was put under the name after the check: give the
		// name back to it and retract ours.
		if err := exchange(tmp, final); err != nil {
			ownTmp = false // tmp holds the foreign file now, not ours
			return fmt.Errorf("a foreign file appeared under the name during replace and could not be moved back from %s: %w", tmp, err)
		}
		return fmt.Errorf("%w: a file that is not a tensor segment appeared under the name; left alone", ErrNotTensor)
	}
	return errors.New("the name kept changing; gave up after 100 attempts")
}

// exchange swaps the names a and b atomically, or fails with
// sys.ErrNoExchange. It is a variable so that tests can act between the
// two names' swap and the check that follows.
var exchange = sys.Exchange
