package sys

import (
	"errors"
	"time"
)

// ID is the identity of a file: its device and inode.
type ID struct {
	Dev uint64
	Ino uint64
}

// Kind is the type of a file, from the S_IFMT bits of its mode.
type Kind uint8

// The kinds of file.
const (
	Regular Kind = iota
	Dir
	FIFO
	Device
	Socket
	Symlink
	Untyped // a mode with no type bits: macOS's shm objects
	Other
)

// Stat is what Fstat and Lstat report of a file.
type Stat struct {
	Kind     Kind
	Perm     uint32 // the permission bits, mode & 0o777
	Size     int64
	Blocks   int64 // 512-byte blocks allocated
	ID       ID
	UID, GID uint32
	ModTime  time.Time
}

// ErrReplaced is what UnlinkID returns when the name no longer holds the
// file it was to remove: nothing is removed.
var ErrReplaced = errors.New("the name now holds another file")
