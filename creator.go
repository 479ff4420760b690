package shmtensor

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"github.com/shmtensor/shmtensor/internal/sys"
)

// creator is how a platform makes a new segment exclusively and atomically:
// an unnamed or hidden object that publish gives its name.
type creator interface {
	descriptor() int
	publish() error // gives the object its name; fails with EEXIST if taken
	abort()         // undoes everything; the name is untouched
	close()         // after publish, if the segment is not kept
}

// newCreator makes the object of a new segment n with exactly mode: an
// unnamed O_TMPFILE file where the system has them, else a file under a
// hidden temporary name, or, for a shm object that is not a file (the
// BSDs), the named object itself.
func newCreator(n segName, mode uint32) (creator, error) {
	if n.shm && !sys.ShmIsFile {
		fd, err := sys.ShmCreate(n.path, mode)
		if err != nil {
			return nil, err
		}
		return &shmCreator{fd: fd, name: n.path}, nil
	}
	return newFileCreator(pathOf(n), mode)
}

// newStagedCreator makes the unnamed file of an Unpublished segment: as
// newCreator, but whether the name is taken matters only to Publish.
func newStagedCreator(n segName, mode uint32) (creator, error) {
	if n.shm && !sys.ShmIsFile {
		return nil, fmt.Errorf("%w: unpublished shm segments (the system cannot rename shm objects; use a file:// name)", ErrNotSupported)
	}
	return newFileCreator(pathOf(n), mode)
}

func newFileCreator(final string, mode uint32) (creator, error) {
	fd, err := openTmpfile(filepath.Dir(final), mode)
	if err != nil {
		// No O_TMPFILE, or one that half works (on some FUSE filesystems
		// open succeeds and fchmod then fails with ENOENT): the hidden
		// temporary name works wherever files can be created, and fails
		// with the real cause where they cannot.
		return newTempCreator(final, mode)
	}
	return &tmpfileCreator{fd: fd, final: final}, nil
}

// openTmpfile opens an unnamed file in dir with exactly mode. It is a
// variable so that tests can make it fail like a filesystem where O_TMPFILE
// half works.
var openTmpfile = sys.OpenTmpfile

// tmpfileCreator builds the segment as an unnamed O_TMPFILE inode in the
// target directory and links it into place when it is complete: the name
// appears with its whole header or not at all, and a creator killed before
// the link leaves nothing behind, not even a temporary name.
type tmpfileCreator struct {
	fd    int
	final string
}

func (c *tmpfileCreator) descriptor() int { return c.fd }
func (c *tmpfileCreator) publish() error  { return sys.LinkFD(c.fd, c.final) }
func (c *tmpfileCreator) abort()          { sys.Close(c.fd) }
func (c *tmpfileCreator) close()          { sys.Close(c.fd) }

// tempCreator makes a segment under a temporary name in the target
// directory and links it into place when complete: link(2) is atomic and
// fails if the name exists, so it is both exclusive and never exposes a
// half-written header. A creator killed in between leaves only the
// temporary name, which Attach and List never look at.
type tempCreator struct {
	fd         int
	tmp, final string
}

func newTempCreator(final string, mode uint32) (*tempCreator, error) {
	dir, base := filepath.Split(final)
	tmp := filepath.Join(dir, fmt.Sprintf("%s%s-%016x.tmp", tempPrefix, base, rand.Uint64()))
	fd, err := sys.CreateExclusive(tmp)
	if err != nil {
		return nil, err
	}
	if err := sys.Fchmod(fd, mode); err != nil {
		sys.Close(fd)
		sys.Unlink(tmp)
		return nil, err
	}
	sweepOnce(dir)
	return &tempCreator{fd: fd, tmp: tmp, final: final}, nil
}

func (c *tempCreator) descriptor() int { return c.fd }

func (c *tempCreator) publish() error {
	// The temporary name stays on failure: an Unpublished segment may
	// still be published or replaced, and abort removes it.
	if err := sys.Link(c.tmp, c.final); err != nil {
		return err
	}
	sys.Unlink(c.tmp)
	return nil
}

func (c *tempCreator) abort() {
	// Only if the name still holds this file: after a failed Replace it
	// may hold another.
	if id, err := fileIdentity(c.fd); err == nil {
		unlinkID(c.tmp, id)
	}
	sys.Close(c.fd)
}

func (c *tempCreator) close() { sys.Close(c.fd) }

// shmCreator makes a shm object exclusively with O_CREAT|O_EXCL. The object
// is named from the start, so Create writes the header's magic last: until
// then a reader finds no magic and refuses the object as not a tensor.
type shmCreator struct {
	fd   int
	name string
}

func (c *shmCreator) descriptor() int { return c.fd }
func (c *shmCreator) publish() error  { return nil }
func (c *shmCreator) close()          { sys.Close(c.fd) }
func (c *shmCreator) abort() {
	sys.Close(c.fd)
	sys.ShmUnlink(c.name)
}
