package shmtensor

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// lockPrefix starts the names of the lock files AttachOrCreate serialises
// its callers with, next to the segment. Like every name starting with
// ".shmtensor-", it is reserved: such a file is never a tensor segment.
const lockPrefix = reservedPrefix + "lock-"

// lockName returns the lock file AttachOrCreate uses for n.
func lockName(n segName) (string, error) {
	if n.shm && !sys.ShmIsFile {
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
		fd, err := sys.OpenOrCreate(path, mode)
		if err != nil {
			return nil, fmt.Errorf("open lock file %s: %w", path, err)
		}
		st, err := sys.Fstat(fd)
		if err == nil && st.Kind != sys.Regular {
			sys.Close(fd)
			return nil, fmt.Errorf("lock file %s is not a regular file", path)
		}
		if err := sys.LockFile(fd); err != nil {
			sys.Close(fd)
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		id, err := fileIdentity(fd)
		if err != nil {
			sys.Close(fd)
			return nil, err
		}
		if now, err := lstatID(path); err != nil || now != id {
			sys.Close(fd) // a removed lock file: its holder is done
			continue
		}
		return func() {
			unlinkID(path, id)
			sys.Close(fd)
		}, nil
	}
}
