package shmtensor

import (
	"fmt"

	"github.com/shmtensor/shmtensor/internal/codec"
	"github.com/shmtensor/shmtensor/internal/sys"
)

// Create makes a new segment holding a zeroed tensor of the given shape and
// maps it read-write. The name must not exist: Create is exclusive
// (ErrExist, which also matches fs.ErrExist) and atomic — other processes see
// either no name or a complete header, and a creator killed at any moment
// leaves nothing attachable under the name.
//
// Unless Lazy is given, Create reserves every page of the segment, so a full
// /dev/shm or disk fails here with an error wrapping syscall.ENOSPC that
// says how much was asked and how much was free, and how to get more (a
// larger /dev/shm in Docker or Kubernetes, a remount of a tmpfs), instead of
// a SIGBUS later. On a tmpfs the pages are charged to the memory cgroup of
// the calling process, and past its limit the kernel does not fail the
// allocation but OOM-kills: Create refuses a segment larger than the
// cgroup's room with ENOSPC naming the limit. What other processes of the
// cgroup allocate after that check can still bring the OOM killer (see
// docs/RELIABILITY.md); ReadLimits reports the room.
// The permissions are exactly 0600, or what Mode gives, whatever the umask.
// Populate and HugePages choose how the pages are placed (see them).
// A shape may have up to 64 dimensions, as numpy 2 allows; numpy 1.x opens
// arrays of at most 32, so a segment of more is refused by its np.load.
func Create[T Number](name string, shape []int, opts ...Option) (*Tensor[T], error) {
	seg, err := createSegment(name, DTypeOf[T](), shape, opts)
	if err != nil {
		return nil, err
	}
	t, err := viewAs[T](seg, "create")
	if err != nil {
		seg.Close()
		return nil, err
	}
	return t, nil
}

// CreateSegment is Create for an element type given at run time, such as
// one parsed from user input, and returns the untyped segment; View gives a
// typed tensor over it. It is also the way to create bool and float16
// segments, which have no Go Number type: fill them through Bytes.
func CreateSegment(name string, dt DType, shape []int, opts ...Option) (*Segment, error) {
	return createSegment(name, dt, shape, opts)
}

func createSegment(name string, dt DType, shape []int, opts []Option) (*Segment, error) {
	return newSegment("create", name, dt, shape, false, opts, nil)
}

// newSegment makes a segment for Create (fill nil: the data stays zero) and
// Import (fill reads the data into the mapping). fill runs before the name
// is given to the segment and before the header's magic is written, so a
// failing fill leaves nothing under the name: see creator.
func newSegment(op, name string, dt DType, shape []int, fortran bool, opts []Option, fill func(fd int, off int64, data []byte) error) (*Segment, error) {
	n, err := parseName(name)
	if err != nil {
		return nil, &Error{Op: op, Name: name, Err: err}
	}
	o := buildOptions(opts)
	if o.modeErr != nil {
		return nil, &Error{Op: op, Name: n.name, Err: o.modeErr}
	}
	var h header
	if o.bundle != nil {
		h = o.bundle.Header()
	} else if h, err = newHeader(o.layout, dt, shape, fortran); err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	var (
		hdr   []byte // the bytes to write, at hdrAt
		hdrAt int64
		size  int64
		magic int // length of the magic at the start of hdr, written last
	)
	switch {
	case o.bundle != nil:
		// The header length, at the start, is written last.
		hdr = o.bundleHeader
		size = int64(len(hdr)) + h.DataLen
		magic = 8
	case o.layout == SharedArray:
		hdr = codec.EncodeSATrailer(h)
		hdrAt = h.DataLen
		size = h.DataLen + int64(len(hdr))
		magic = codec.SAMagicLen
	default:
		hdr = codec.EncodeNPYHeader(h, codec.NPYDataOffset)
		size = codec.NPYDataOffset + h.DataLen
		if o.tail > 0 {
			size = (size+codec.NPYDataOffset-1)/codec.NPYDataOffset*codec.NPYDataOffset + o.tail
		} else if h.DataLen == 0 {
			// numpy cannot mmap a file that ends where its data starts
			// ("mmap offset is greater than file size"): one spare byte
			// lets np.load(mmap_mode="r+") open empty segments too.
			size++
		}
		magic = codec.NPYMagicLen
	}
	if size > int64(maxInt) {
		return nil, &Error{Op: op, Name: n.name, Err: fmt.Errorf("%w: segment of %d bytes cannot be mapped", ErrShape, size)}
	}

	// A Create that reserves pages or an Import that reads its data fails
	// early, before that work, when the name is taken. It is only a
	// shortcut: publishing the name is what makes creation exclusive, and
	// a Lazy Create, which does no such work, saves the system call.
	if (!o.lazy || fill != nil) && !o.unpublished && nameTaken(n) {
		return nil, &Error{Op: op, Name: n.name, Err: createErrno(sys.EEXIST, n)}
	}
	// An Unpublished segment is named later, by Publish or Replace.
	var c creator
	if o.unpublished {
		c, err = newStagedCreator(n, o.mode)
	} else {
		c, err = newCreator(n, o.mode)
	}
	if err != nil {
		return nil, &Error{Op: op, Name: n.name, Err: createErrno(err, n)}
	}
	markLive(c.descriptor())
	fail := func(err error) (*Segment, error) {
		c.abort()
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	// A huge-page Create on tmpfs only sizes the file here and reserves
	// through the advised mapping below: see HugePages.
	mappedReserve := o.huge && !o.lazy && sys.ReservesThroughMapping(c.descriptor())
	if err := reserve(c.descriptor(), size, o.lazy || mappedReserve); err != nil {
		if nameTaken(n) {
			// The name was taken while reserving: that is the answer, not
			// the full filesystem.
			return fail(createErrno(sys.EEXIST, n))
		}
		return fail(err)
	}
	if sys.ShmSizeRounded && n.shm {
		// macOS rounds shm objects up to whole pages; the SharedArray
		// trailer must end the object, where readers look for it.
		got, err := fileSize(c.descriptor())
		if err != nil {
			return fail(err)
		}
		if got > size {
			if o.layout == SharedArray {
				hdrAt += got - size
			}
			size = got
		}
	}
	mem, err := sys.Map(c.descriptor(), size, true, o.advice())
	if err != nil {
		return fail(fmt.Errorf("mmap %d bytes: %w", size, err))
	}
	if mappedReserve {
		if err := reserveMapped(c.descriptor(), mem); err != nil {
			sys.Unmap(mem)
			if nameTaken(n) {
				return fail(createErrno(sys.EEXIST, n))
			}
			return fail(err)
		}
	}
	// Body, data, magic last: where the object is visible while being
	// written (BSD shm), a reader sees no magic until the segment is whole.
	copy(mem[hdrAt+int64(magic):], hdr[magic:])
	if fill != nil {
		if err := fill(c.descriptor(), h.DataOff, mem[h.DataOff:h.DataOff+h.DataLen:h.DataOff+h.DataLen]); err != nil {
			sys.Unmap(mem)
			return fail(err)
		}
	}
	copy(mem[hdrAt:hdrAt+int64(magic)], hdr[:magic])
	if o.prepare != nil {
		if err := o.prepare(c.descriptor(), mem); err != nil {
			sys.Unmap(mem)
			return fail(err)
		}
	}
	done := c.close
	if o.unpublished {
		done = c.abort // an Unpublished segment is named by Publish or Replace
	} else if err := c.publish(); err != nil {
		sys.Unmap(mem)
		return fail(createErrno(err, n))
	}
	fd := c.descriptor()
	id, err := fileIdentity(fd)
	if err != nil {
		sys.Unmap(mem)
		done()
		return nil, &Error{Op: op, Name: n.name, Err: err}
	}
	if o.readOnly {
		if err := sys.ProtectRead(mem); err != nil {
			sys.Unmap(mem)
			done()
			return nil, &Error{Op: op, Name: n.name, Err: err}
		}
	}
	seg := &Segment{name: n.name, hdr: h, mem: mem, readOnly: o.readOnly, fd: fd, id: id}
	if o.unpublished {
		seg.staged = c
	}
	return seg, nil
}
