//go:build linux || darwin || freebsd

package shmtensor

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// lockPrefix starts the names of the lock files AttachOrCreate serialises
// its callers with, next to the segment. Like every name starting with
// ".shmtensor-", it is reserved: such a file is never a tensor segment.
const lockPrefix = reservedPrefix + "lock-"

// errNoExchange reports a system or filesystem that cannot swap two names
// atomically.
var errNoExchange = errors.New("atomic exchange of names not supported")

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

// unlinkID removes path if it is still the file id.
func unlinkID(path string, id FileID) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return err
	}
	if (FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}) != id {
		return fmt.Errorf("%s was replaced meanwhile; left alone", path)
	}
	return unix.Unlink(path)
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
	if n.shm && !shmIsFile {
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
			if errors.Is(err, syscall.EEXIST) {
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
			if err := linkFD(c.descriptor(), tmp); err != nil {
				return err
			}
			ownTmp = true
		}
		if testHookBeforeExchange != nil {
			testHookBeforeExchange(final)
		}
		err = exchange(tmp, final)
		switch {
		case errors.Is(err, errNoExchange):
			// Check and rename are two steps here: a foreign file put
			// under the name in between would be replaced.
			if err := unix.Rename(tmp, final); err != nil {
				return err
			}
			ownTmp = false
			return nil
		case errors.Is(err, syscall.ENOENT):
			continue // the target went away: link instead
		case err != nil:
			return err
		}
		// tmp now holds what was under the name.
		if displaced, err := inspect(tmp); err == nil {
			ownTmp = false
			if err := unlinkID(tmp, displaced); err != nil {
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

// lockName returns the lock file AttachOrCreate uses for n.
func lockName(n segName) (string, error) {
	if n.shm && !shmIsFile {
		return "", ErrNotSupported
	}
	dir, base := filepath.Split(pathOf(n))
	if len(lockPrefix)+len(base) > 255 {
		// NAME_MAX: a long name's lock is named by its hash.
		sum := sha256.Sum256([]byte(base))
		base = hex.EncodeToString(sum[:16])
	}
	return filepath.Join(dir, lockPrefix+base), nil
}

// lockCreation takes the creation lock of n, waiting for it as long as it
// takes. The lock file is removed by the holder before it lets go, so a
// waiter that gets the lock of a removed file starts over with the file now
// under the name: every holder holds the lock of the one file there.
func lockCreation(n segName, mode uint32) (unlock func(), err error) {
	path, err := lockName(n)
	if err != nil {
		return nil, err
	}
	for {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
		if err != nil {
			return nil, fmt.Errorf("open lock file %s: %w", path, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err == nil && uint32(st.Mode)&unix.S_IFMT != unix.S_IFREG {
			unix.Close(fd)
			return nil, fmt.Errorf("lock file %s is not a regular file", path)
		}
		if err := lockFD(fd); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		id, err := fileIdentity(fd)
		if err != nil {
			unix.Close(fd)
			return nil, err
		}
		var now unix.Stat_t
		if err := unix.Lstat(path, &now); err != nil || (FileID{Dev: uint64(now.Dev), Ino: uint64(now.Ino)}) != id {
			unix.Close(fd) // a removed lock file: its holder is done
			continue
		}
		return func() {
			unlinkID(path, id)
			unix.Close(fd)
		}, nil
	}
}

// mappedFile reports whether mapped lists a process mapping the file at p.
func mappedFile(p string, mapped map[FileID][]int) bool {
	var st unix.Stat_t
	if unix.Lstat(p, &st) != nil {
		return false
	}
	return len(mapped[FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}]) > 0
}
