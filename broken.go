package shmtensor

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// Broken describes an object in shared memory that carries a tensor magic
// (numpy's at the start, or SharedArray's where its trailer would be) but
// that Attach and Stat refuse, and List leaves out: a segment truncated or
// corrupted after it was created, a foreign file made to look like one
// (Delete refuses both), or a valid .npy file of a big-endian element
// type, which Delete removes.
type Broken struct {
	Name     string // "shm://x"
	Size     int64
	Mode     fs.FileMode
	UID, GID uint32
	ModTime  time.Time
	Err      error // why it is not a valid segment; wraps ErrNotTensor or ErrDType
}

// ListBroken returns the broken entries of shared memory, sorted by name:
// those that carry a tensor magic but have no valid header. Objects without
// either magic (other programs' shm, empty files) are not listed. Like
// List, it fails with ErrNotSupported where shared memory cannot be
// enumerated.
func ListBroken() ([]Broken, error) {
	names, err := listShm()
	if err != nil {
		return nil, &Error{Op: "list", Err: err}
	}
	var out []Broken
	for _, name := range names {
		n, err := parseName(schemeShm + name)
		if err != nil {
			continue
		}
		f, err := openFile(n, false)
		if err != nil {
			continue
		}
		if _, err := readHeader(f); err != nil && codec.HasMagic(f, f.size) {
			out = append(out, Broken{
				Name: n.name, Size: f.size, Mode: f.perm, UID: f.uid, GID: f.gid,
				ModTime: f.modTime, Err: err,
			})
		}
		f.close()
	}
	slices.SortFunc(out, func(a, b Broken) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteBroken removes a segment that Delete refuses because its header is
// broken (see ListBroken); a valid segment is removed too. So that it
// cannot be used to remove other programs' files, the object must be a
// regular file carrying a tensor magic and be owned by the caller;
// otherwise it is left untouched and the error wraps ErrNotTensor or
// ErrPermission. The removal is as safe against a name swapped meanwhile
// as Delete's.
func DeleteBroken(name string) error {
	const op = "delete"
	n, err := parseName(name)
	if err != nil {
		return &Error{Op: op, Name: name, Err: err}
	}
	f, err := openFile(n, false)
	if err != nil {
		return &Error{Op: op, Name: n.name, Err: err}
	}
	defer f.close()
	if err := ownBroken(f); err != nil {
		return &Error{Op: op, Name: n.name, Err: err}
	}
	if err := unlinkNamed(n, f, ownBroken); err != nil {
		return &Error{Op: op, Name: n.name, Err: err}
	}
	return nil
}

// ownBroken accepts what DeleteBroken removes: a file carrying a tensor
// magic owned by the caller.
func ownBroken(f *file) error {
	if !codec.HasMagic(f, f.size) {
		return fmt.Errorf("%w: carries no tensor magic, so it is not a broken segment", ErrNotTensor)
	}
	if me, ok := sys.Geteuid(); ok && f.uid != me {
		return fmt.Errorf("%w: owned by %s, not by the caller (%s)", ErrPermission, describeUID(f.uid), describeUID(me))
	}
	return nil
}
